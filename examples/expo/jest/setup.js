// Per test file, before the tests: AsyncStorage's official Jest mock (an in-memory AsyncStorage),
// and a real WebSocket. React Native's WebSocket is a native module, mocked by the preset; in
// Node, `ws` (the client React Native's dev tools use) connects to consult-stub for real.
jest.mock("@react-native-async-storage/async-storage", () =>
  require("@react-native-async-storage/async-storage/jest/async-storage-mock"),
);
global.WebSocket = require("ws");
