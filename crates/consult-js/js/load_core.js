// How the browser entries (index.js, slim.js) load their core: the .wasm fetched from the URL
// the entry gives (`new URL("./….wasm", import.meta.url)`, an asset every bundler understands),
// compiled while it downloads when the server says application/wasm, then bound.

import { bindCore } from "./consult_core.js";

/**
 * Fetches, instantiates and binds the core at `url`; rejects with an Error naming the URL when
 * it cannot be loaded.
 * @param {URL} url
 */
export async function loadCore(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`consult-client: its core ${url} could not be loaded (HTTP ${response.status})`);
  const { instance } = await (response.headers.get("content-type") === "application/wasm"
    ? WebAssembly.instantiateStreaming(response)
    : WebAssembly.instantiate(await response.arrayBuffer()));
  bindCore(instance.exports);
}
