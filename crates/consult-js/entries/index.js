// consult-client for browsers and bundlers. The core is loaded here, once, before any module
// that imports the package runs: there is no init() to call.
import { loadCore } from "./load_core.js";

await loadCore(new URL("./consult_client_bg.wasm", import.meta.url));

export * from "./consult_client.js";
