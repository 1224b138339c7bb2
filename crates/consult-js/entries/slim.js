// consult-client/slim for browsers and bundlers: the package without its built-in video session
// (connectVideoSession), over a core without the socket machine, for applications that use the
// official socket.io-client (socketIoAuth()) or no video room. Loaded as index.js loads its own.
import { loadCore } from "./load_core.js";

await loadCore(new URL("./consult_client_slim_bg.wasm", import.meta.url));

export * from "./consult_client.js";
