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
# and a second entry, `consult-client/slim`: the same API without connectVideoSession, over a
# core built without the socket machine (consult_client_slim_bg.wasm, 7 KB gz less) — slim.js in
# browsers and bundlers, slim.d.ts; node.js and the React Native entry serve it as they are.
# and `consult-client/react`: React hooks over one client (react/index.js, for React on the web
# and React Native alike: it imports no core, only React, an optional peer dependency).
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

for wasm in consult_client_bg.wasm consult_client_slim_bg.wasm; do
  [[ -f "$WEB/$wasm" ]] || die "$WEB/$wasm missing: run scripts/build-package.sh"
done

rm -rf "$OUT"
mkdir -p "$OUT"
# The wasm; the driver, its core binding and its types from the source.
cp "$WEB/consult_client_bg.wasm" "$WEB/consult_client_slim_bg.wasm" "$OUT/"
cp "$CRATE"/js/*.js "$CRATE/js/consult_client.d.ts" "$CRATE/js/slim.d.ts" "$OUT/"
cp "$CRATE/README.md" "$CRATE/CHANGELOG.md" "$ROOT/LICENSE-MIT" "$ROOT/LICENSE-APACHE" "$OUT/"
# consult-client/react: the hooks, plain modules that import only React (a peer dependency) and
# are handed the app's client, so they add nothing to the other entries.
mkdir -p "$OUT/react"
cp "$CRATE"/js/react/*.js "$CRATE/js/react/index.d.ts" "$OUT/react/"

cat >"$OUT/index.js" <<'JS'
// consult-client for browsers and bundlers. The core is loaded here, once, before any module
// that imports the package runs: there is no init() to call.
import { loadCore } from "./load_core.js";

await loadCore(new URL("./consult_client_bg.wasm", import.meta.url));

export * from "./consult_client.js";
JS
cat >"$OUT/slim.js" <<'JS'
// consult-client/slim for browsers and bundlers: the package without its built-in video session
// (connectVideoSession), over a core without the socket machine, for applications that use the
// official socket.io-client (socketIoAuth()) or no video room. Loaded as index.js loads its own.
import { loadCore } from "./load_core.js";

await loadCore(new URL("./consult_client_slim_bg.wasm", import.meta.url));

export * from "./consult_client.js";
JS
cat >"$OUT/node.js" <<'JS'
// consult-client for Node (also consult-client/slim there: size does not matter on a server):
// the core's bytes are read from the package and instantiated synchronously (no fetch of a
// file: URL), before any module that imports the package runs.
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
// React Native and Node load the whole core either way (no download to save): ./slim is the same
// entry there, with the slim types.
const entry = (types, browser) => ({
  types,
  ...(hasRn === "1" ? { "react-native": { types: "./react-native/index.d.ts", default: "./react-native/index.js" } } : {}),
  node: "./node.js",
  default: browser,
});
const files = fs.readdirSync(dir).filter((f) => /\.(js|d\.ts|wasm|md)$|^LICENSE/.test(f)).sort();
files.push("react/");
if (hasRn === "1") files.push("react-native/");
const pkg = {
  name: "consult-client",
  version: field("version"),
  description: field("description"),
  license: "MIT OR Apache-2.0",
  type: "module",
  exports: {
    ".": entry("./consult_client.d.ts", "./index.js"),
    "./slim": entry("./slim.d.ts", "./slim.js"),
    "./react": { types: "./react/index.d.ts", default: "./react/index.js" },
    "./package.json": "./package.json",
  },
  main: "./index.js",
  module: "./index.js",
  types: "./consult_client.d.ts",
  ...(hasRn === "1" ? { "react-native": "./react-native/index.js" } : {}),
  engines: { node: ">=20" },
  // Only consult-client/react uses React (useSyncExternalStore: React 18 or newer).
  peerDependencies: { react: ">=18" },
  peerDependenciesMeta: { react: { optional: true } },
  files,
  sideEffects: ["./index.js", "./slim.js", "./node.js", "./react-native/index.js"],
  keywords: ["jwt", "refresh-token", "wasm", "telehealth", "session", "socket.io", "react-native"],
};
fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
JS
log "done: $OUT ($(ls "$OUT" | wc -l) entries)"
