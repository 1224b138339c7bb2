#!/usr/bin/env bash
# Assembles THE npm package of consult-client, target/pkg, from the wasm build
# (target/pkg-web, made by build-package.sh) and, when built, the React Native build
# (target/pkg-react-native, made by build-react-native.sh). One package, one name, one API, with
# an `exports` map whose conditions pick how the core is loaded:
#   types          consult_client.d.ts (hand-written)
#   react-native   react-native/index.js: the same driver over the core compiled to JavaScript
#                  (wasm2js: Hermes has no WebAssembly); also the top-level `react-native` field
#                  Metro reads
#   node           node.js: the wasm read from disk and instantiated synchronously
#   default        index.js: browsers and bundlers; the wasm is fetched from
#                  `new URL("./consult_client_bg.wasm", import.meta.url)` (an asset Vite, webpack 5,
#                  Rollup and esbuild understand without configuration) and instantiated with a
#                  top-level await, so the package is ready when an import of it resolves.
# Every entry binds the same hand-written core binding (js/consult_core.js) to the core's
# exports before any module that imports the package runs.
# No entry has an init() to call, so none can be forgotten.
#
# Usage: scripts/assemble-package.sh   (build-package.sh runs it last)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CRATE="$ROOT/crates/consult-client"
WEB="$ROOT/target/pkg-web"
RN="$ROOT/target/pkg-react-native"
OUT="$ROOT/target/pkg"

die() { printf '[assemble-package] error: %s\n' "$*" >&2; exit 1; }
log() { printf '[assemble-package] %s\n' "$*" >&2; }

[[ -f "$WEB/consult_client_bg.wasm" ]] || die "$WEB/consult_client_bg.wasm missing: run scripts/build-package.sh"

rm -rf "$OUT"
mkdir -p "$OUT"
# The wasm; the driver, its core binding and its types from the source.
cp "$WEB/consult_client_bg.wasm" "$OUT/"
cp "$CRATE"/js/*.js "$CRATE/js/consult_client.d.ts" "$OUT/"
cp "$CRATE/README.md" "$CRATE/CHANGELOG.md" "$ROOT/LICENSE-MIT" "$ROOT/LICENSE-APACHE" "$OUT/"

cat >"$OUT/index.js" <<'JS'
// consult-client for browsers and bundlers. The core is loaded here, once, before any module
// that imports the package runs: there is no init() to call.
import { bindCore } from "./consult_core.js";

const url = new URL("./consult_client_bg.wasm", import.meta.url);
const response = await fetch(url);
if (!response.ok) throw new Error(`consult-client: its core ${url} could not be loaded (HTTP ${response.status})`);
// Streaming compilation needs the server to say application/wasm; otherwise from the bytes.
const { instance } = await (response.headers.get("content-type") === "application/wasm"
  ? WebAssembly.instantiateStreaming(response)
  : WebAssembly.instantiate(await response.arrayBuffer()));
bindCore(instance.exports);

export * from "./consult_client.js";
JS
cat >"$OUT/node.js" <<'JS'
// consult-client for Node: the core's bytes are read from the package and instantiated
// synchronously (no fetch of a file: URL), before any module that imports the package runs.
import { readFileSync } from "node:fs";
import { bindCore } from "./consult_core.js";

const bytes = readFileSync(new URL("./consult_client_bg.wasm", import.meta.url));
bindCore(new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports);

export * from "./consult_client.js";
JS

HAS_RN=0
if [[ -f "$RN/index.js" ]]; then
  HAS_RN=1
  mkdir -p "$OUT/react-native"
  cp -R "$RN"/. "$OUT/react-native/"
  rm -f "$OUT/react-native/package.json" "$OUT/react-native/README.md"
else
  log "no React Native build at $RN (scripts/build-react-native.sh): the package has no react-native entry"
fi

node - "$OUT" "$CRATE/Cargo.toml" "$HAS_RN" <<'JS'
const fs = require("node:fs");
const path = require("node:path");
const [dir, cargoToml, hasRn] = process.argv.slice(2);
const cargo = fs.readFileSync(cargoToml, "utf8");
const field = (name) => (new RegExp(`^${name} = "(.*)"`, "m").exec(cargo) ?? [])[1];
const conditions = { types: "./consult_client.d.ts" };
if (hasRn === "1") {
  conditions["react-native"] = { types: "./react-native/index.d.ts", default: "./react-native/index.js" };
}
Object.assign(conditions, { node: "./node.js", default: "./index.js" });
const files = fs.readdirSync(dir).filter((f) => /\.(js|d\.ts|wasm|md)$|^LICENSE/.test(f)).sort();
if (hasRn === "1") files.push("react-native/");
const pkg = {
  name: "consult-client",
  version: field("version"),
  description: field("description"),
  license: "MIT OR Apache-2.0",
  type: "module",
  exports: { ".": conditions, "./package.json": "./package.json" },
  main: "./index.js",
  module: "./index.js",
  types: "./consult_client.d.ts",
  ...(hasRn === "1" ? { "react-native": "./react-native/index.js" } : {}),
  engines: { node: ">=20" },
  files,
  sideEffects: ["./index.js", "./node.js", "./react-native/index.js"],
  keywords: ["jwt", "refresh-token", "wasm", "telehealth", "session", "socket.io", "react-native"],
};
fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
JS
log "done: $OUT ($(ls "$OUT" | wc -l) entries)"
