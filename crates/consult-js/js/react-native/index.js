// consult-client for React Native (Hermes, no WebAssembly): the npm package's public API — the
// same JavaScript driver over the same consult-core, here compiled to JavaScript by wasm2js
// (crates/consult-js/build/package.mjs) — and the React Native helpers. The core is bound here, once,
// with the platform's UTF-8 codec or ./utf8.js's where the engine has none.

import * as wasm2js from "./consult_core_wasm2js.js";
import { bindCore } from "./consult_core.js";
import { TextDecoder, TextEncoder } from "./utf8.js";

bindCore(wasm2js, { TextDecoder, TextEncoder });

export * from "./consult_client.js";
export { asyncStorageAdapter, wakeOnAppState } from "./react_native.js";
