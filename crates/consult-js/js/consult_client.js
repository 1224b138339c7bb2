// consult-client for JavaScript: keeps a video consultation authenticated for hours. The
// package's entry: the public classes and the seed's helpers on a default client.
//
// The I/O (fetch, timers, Web Locks, BroadcastChannel, storage, events, the poll loop, the
// WebSocket) is plain JavaScript, in these modules; every decision (token times, clock skew, when to
// refresh, backoff, how to read a status, the poll schedule, the Socket.IO codec and connection
// state machine) is a synchronous call into consult-core compiled to wasm (`./consult_core.js`,
// exported by `crates/consult-js/src/`). This split keeps the package small: the same
// orchestration written in Rust (the crate's Rust API, used by the Leptos demo) costs about
// 70 KB gz of wasm, these modules about 6 KB minified (BENCHMARKS.md, "Package size").

import { ConsultClient } from "./client.js";
import { ConsultError } from "./errors.js";

export { ConsultClient } from "./client.js";
export { ConsultError } from "./errors.js";
export { joinUrl } from "./env.js";
export { SessionPoller } from "./poller.js";

// ---------------------------------------------------------------------------------------------
// The seed's helpers, on a default client

let defaultClient = null;

/** Sets up (or replaces) the default client used by the helpers below. */
export function configure(options) {
  const client = new ConsultClient(options);
  defaultClient?.dispose();
  defaultClient = client;
}

const onDefault = (call) =>
  defaultClient
    ? call(defaultClient)
    : Promise.reject(new ConsultError("NO_TOKEN", "call configure({ baseUrl }) first"));

export const getValidToken = () => onDefault((client) => client.getValidToken());
export const refreshAuthToken = () => onDefault((client) => client.refreshAuthToken());
export const getSessionDetails = (sessionId) => onDefault((client) => client.getSessionDetails(sessionId));

