// consult-client for React Native (Hermes, no WebAssembly): the npm package's public API — the
// same JavaScript driver over the same consult-core, here compiled to JavaScript by wasm2js
// (scripts/build-react-native.sh) — and the React Native helpers.

export * from "./consult_client.js";
export { asyncStorageAdapter, wakeOnAppState } from "./react_native.js";
