// Once per Jest run: a real consult-stub (the binary, `--dev`, a free 127.0.0.1 port; see
// tests/interop/stub.js), and Node's fetch kept in the test environment — jest-expo's global fetch
// is Expo's native one, stubbed (it sends nothing) unless EXPO_PUBLIC_USE_RN_FETCH is set.
import { startStub } from "../../../tests/interop/stub.js";

export default async function globalSetup() {
  process.env.EXPO_PUBLIC_USE_RN_FETCH = "1";
  const stub = await startStub();
  globalThis.consultStub = stub;
  process.env.CONSULT_STUB_URL = stub.url;
}
