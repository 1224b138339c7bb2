// Jest with React Native's preset (through jest-expo), React Native Testing Library, and a
// real consult-stub started for the run (jest/global-setup.mjs). consult-client is installed from
// the packed package (scripts/test-react.sh); it is ES modules, so Babel transforms it as it does
// react-native's own files.
module.exports = {
  // The universal preset (iOS platform): jest-expo/android 57.0.6 fails to parse the Flow types
  // in @react-native/jest-preset's own setup file.
  preset: "jest-expo",
  transformIgnorePatterns: [
    "/node_modules/(?!(.pnpm|react-native|@react-native|@react-native-community|expo|@expo|consult-client))",
    "/node_modules/@react-native/babel-preset/",
  ],
  globalSetup: "<rootDir>/jest/global-setup.mjs",
  globalTeardown: "<rootDir>/jest/global-teardown.mjs",
  setupFiles: ["<rootDir>/jest/setup.js"],
  testTimeout: 30000,
};
