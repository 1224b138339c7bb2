// consult-client for Node (also consult-client/slim there: size does not matter on a server):
// the core's bytes are read from the package and instantiated synchronously (no fetch of a
// file: URL), before any module that imports the package runs.
import { readFileSync } from "node:fs";
import { bindCore } from "./consult_core.js";

const bytes = readFileSync(new URL("./consult_client_bg.wasm", import.meta.url));
bindCore(new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports);

export * from "./consult_client.js";
