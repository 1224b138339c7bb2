#!/usr/bin/env bash
# Builds consult-client's React Native entry, offline: the same consult-core exports as the npm
# package's main entry (crate consult-client, `--no-default-features --features js-video,small-alloc`) compiled to
# plain JavaScript by binaryen's wasm2js, for engines without WebAssembly (Hermes, React Native's
# default engine). No logic is written in JavaScript: the JS driver files are the npm package's
# (crates/consult-client/js/*.js, with the same hand-written core binding consult_core.js), bound
# to the wasm2js module by react-native/index.js.
#
#   target/pkg-react-native/
#     index.js                     the entry: binds the core, then the public API + the React Native helpers
#     index.d.ts                   its types
#     consult_client.js, client.js, … the JavaScript driver (copied from crates/consult-client/js)
#     consult_core.js              the core binding (the same file as the wasm entries')
#     react_native.js, utf8.js     crates/consult-client/js/react-native/
#     consult_core_wasm2js.js      consult-core as JavaScript (wasm2js -O of the wasm-opt -Oz wasm)
#
# How the wasm is made so that wasm2js takes it: scripts/build-core-wasm.sh, as the npm build (the
# crate is `no_std` there; a panic is a trap, which wasm2js turns into a thrown Error), for the
# stable target `wasm32v1-none` — WebAssembly 1.0, no reference types, multivalue or bulk
# memory, which wasm2js does not take — in its own target directory.
# wasm2js replaces the memory's ArrayBuffer when it grows without detaching the old one: the
# binding reads `memory.buffer` afresh on every call, so no stale view can exist.
# Checks: no export takes or returns an i64 (wasm2js would split it; times are f64 ms), nothing
# imported, no `WebAssembly` left in any output file.
# wasm-opt and wasm2js must be npm binaryen 132 (tests/node_modules/.bin).
#
# Usage: scripts/build-react-native.sh   (expects scripts/setup.sh done; CARGO_TARGET_DIR honoured)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/tests/node_modules/.bin:$HOME/.cargo/bin:$PATH"
CRATE="crates/consult-client"
BINARYEN_VERSION="132"
OUT="target/pkg-react-native"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/react-native-wasm2js"

die() { printf '[build-react-native] error: %s\n' "$*" >&2; exit 1; }
log() { printf '[build-react-native] %s\n' "$*" >&2; }

for tool in wasm-opt wasm2js; do
  path="$(command -v "$tool" || true)"
  [[ "$path" == "$ROOT/tests/node_modules/.bin/$tool" ]] ||
    die "$tool must be npm binaryen $BINARYEN_VERSION from tests/node_modules/.bin (found '${path:-nothing}'): run scripts/setup.sh"
  says="$("$tool" --version 2>&1 || true)"
  grep -Eq "^$tool version $BINARYEN_VERSION( |$)" <<<"$says" || die "$tool says '$says'; version $BINARYEN_VERSION is required"
done
# WebAssembly 1.0 only: wasm2js takes no reference-types, multivalue or bulk-memory.
WASM_IN="$(bash "$ROOT/scripts/build-core-wasm.sh" "$TARGET_DIR" wasm32v1-none)"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# No i64 at the boundary (wasm2js splits it into two i32 with a global for the high half).
node - "$WASM_IN" <<'JS'
const [path] = process.argv.slice(2);
const text = require("node:child_process").execFileSync("wasm-dis", [path], { encoding: "utf8", maxBuffer: 1 << 28 });
const exported = [...text.matchAll(/\(export "(\w+)" \(func \$(\S+)\)\)/g)];
const bad = exported.filter(([, , fn]) => {
  // A function's own line (` (func $name (param …) (result …)`), not the export's `(func $name))`.
  const decl = new RegExp("^ \\(func \\$" + fn.replace(/[$^\\.*+?()[\]{}|]/g, "\\$&") + " ([^\\n]*)", "m").exec(text);
  if (!decl) {
    console.error("[build-react-native] error: no declaration found for export " + fn);
    process.exit(1);
  }
  return /\bi64\b/.test(decl[1]);
});
if (bad.length > 0) {
  console.error("[build-react-native] error: exports with an i64: " + bad.map(([, name]) => name).join(", ") + " (use f64)");
  process.exit(1);
}
if (/\(import /.test(text)) {
  console.error("[build-react-native] error: the core imports something: it must import nothing");
  process.exit(1);
}
JS

log "wasm-opt -Oz, wasm2js -O"
wasm-opt -Oz --strip-debug --strip-producers "$WASM_IN" -o "$TMP/opt.wasm"
wasm2js -O "$TMP/opt.wasm" -o "$TMP/consult_core_wasm2js.js"

log "assemble $OUT"
rm -rf "$OUT"
mkdir -p "$OUT"
cp "$CRATE"/js/*.js "$CRATE/js/consult_client.d.ts" "$OUT/"
rm "$OUT/load_core.js" # the browser entries' .wasm loader: this entry binds wasm2js instead
cp "$CRATE"/js/react-native/*.js "$CRATE"/js/react-native/*.d.ts "$OUT/"
cp "$TMP/consult_core_wasm2js.js" "$OUT/"
node - "$OUT" <<'JS'
const fs = require("node:fs");
const path = require("node:path");
const [out] = process.argv.slice(2);
const die = (message) => {
  console.error("[build-react-native] error: " + message);
  process.exit(1);
};

// Nothing may need WebAssembly: its name in the code (comments stripped by esbuild) is an error.
const esbuild = require(path.resolve("tests/node_modules/esbuild"));
for (const file of fs.readdirSync(out).filter((f) => f.endsWith(".js"))) {
  const code = esbuild.transformSync(fs.readFileSync(path.join(out, file), "utf8"), { minifyWhitespace: true, format: "esm", legalComments: "none" }).code;
  if (/\bWebAssembly\b/.test(code)) die(`${file} uses WebAssembly`);
}

const files = fs.readdirSync(out).sort();
const pkg = {
  name: "consult-client-react-native",
  private: true,
  description: "consult-client's React Native entry (wasm2js); the package build puts it under its react-native condition",
  type: "module",
  main: "index.js",
  "react-native": "index.js",
  types: "index.d.ts",
  files,
  sideEffects: ["./index.js"],
};
fs.writeFileSync(path.join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
JS

log "done: $OUT ($(cat "$OUT"/*.js | wc -c) B of JavaScript)"
