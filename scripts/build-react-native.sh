#!/usr/bin/env bash
# Builds consult-client's React Native entry, offline: the same consult-core exports as the npm
# package (crate consult-client, features js,small-alloc) compiled to plain JavaScript by
# binaryen's wasm2js, for engines without WebAssembly (Hermes, React Native's default engine).
# No logic is written in JavaScript: the JS driver files are the npm package's
# (crates/consult-client/js/*.js), over wasm-bindgen's glue over the wasm2js module.
#
#   target/pkg-react-native/
#     index.js                     the entry: the npm package's public API + the React Native helpers
#     index.d.ts                   its types
#     consult_client.js, client.js, … the JavaScript driver (copied from crates/consult-client/js)
#     react_native.js, utf8.js     crates/consult-client/js/react-native/
#     consult_core.js              wasm-bindgen's bundler entry, importing the wasm2js module
#     consult_client_bg.js         wasm-bindgen's glue (patched, see below)
#     consult_core_wasm2js.js      consult-core as JavaScript (wasm2js -O of the wasm-opt -Oz wasm)
#
# How the wasm is made so that wasm2js takes it (../shared/TOOLCHAIN.md, "wasm2js"):
#   - MVP features only (`-C target-cpu=mvp`, no reference-types / multivalue), with std rebuilt
#     for them (`-Z build-std=std,panic_abort`, RUSTC_BOOTSTRAP=1): otherwise wasm-bindgen adds an
#     externref table and wasm2js refuses "modules with multiple tables";
#   - `-Cpanic=immediate-abort`, `-Zlocation-detail=none`, `-Zfmt-debug=none`: no panic machinery
#     or messages in the output (a panic is a trap, which wasm2js turns into a thrown Error);
#   - its own target directory (the flags differ from the npm build's).
# The glue is patched, and the build fails if a patch no longer applies:
#   - typed-array views of the memory are refreshed when `view.buffer !== wasm.memory.buffer`
#     (wasm2js replaces the ArrayBuffer on memory growth without detaching the old one, so
#     wasm-bindgen's `byteLength === 0` test would keep writing into the old buffer);
#   - `TextDecoder` / `TextEncoder` come from ./utf8.js: the platform's when it has them, else a
#     small UTF-8 codec (Hermes has no TextDecoder); nothing is installed on globalThis.
# Checks: no BigInt (i64) at the boundary, no `WebAssembly` left in any output file.
# wasm-opt and wasm2js must be npm binaryen 132 (tests/node_modules/.bin): Debian's 108 corrupts
# wasm-bindgen 0.2.130 output.
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

command -v wasm-bindgen >/dev/null 2>&1 || die "wasm-bindgen not on PATH: run scripts/setup.sh"
for tool in wasm-opt wasm2js; do
  path="$(command -v "$tool" || true)"
  [[ "$path" == "$ROOT/tests/node_modules/.bin/$tool" ]] ||
    die "$tool must be npm binaryen $BINARYEN_VERSION from tests/node_modules/.bin (found '${path:-nothing}'): run scripts/setup.sh"
  says="$("$tool" --version 2>&1 || true)"
  grep -Eq "^$tool version $BINARYEN_VERSION( |$)" <<<"$says" || die "$tool says '$says'; version $BINARYEN_VERSION is required"
done
# std is rebuilt for the MVP target from its sources (a fresh machine lacks them; idempotent).
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  log "rustup component add rust-src (std is rebuilt for the MVP target)"
  rustup component add rust-src || die "could not install rust-src"
fi

log "cargo build (MVP wasm, std rebuilt, panic=immediate-abort) in $TARGET_DIR"
RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-C target-cpu=mvp -C target-feature=-reference-types,-multivalue -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
  CARGO_TARGET_DIR="$TARGET_DIR" \
  cargo build --locked --release --target wasm32-unknown-unknown -p consult-client --features js,small-alloc \
  -Z build-std=std,panic_abort
WASM_IN="$TARGET_DIR/wasm32-unknown-unknown/release/consult_client.wasm"
[[ -f "$WASM_IN" ]] || die "$WASM_IN missing after the build"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
log "wasm-bindgen --target bundler"
wasm-bindgen --target bundler --out-dir "$TMP" --out-name consult_client "$WASM_IN"
[[ -f "$TMP/consult_client_bg.wasm" && -f "$TMP/consult_client_bg.js" && -f "$TMP/consult_client.js" ]] ||
  die "wasm-bindgen did not write the expected files"

log "wasm-opt -Oz, wasm2js -O"
wasm-opt -Oz "$TMP/consult_client_bg.wasm" -o "$TMP/opt.wasm"
wasm2js -O "$TMP/opt.wasm" -o "$TMP/consult_core_wasm2js.js"

log "assemble $OUT"
rm -rf "$OUT"
mkdir -p "$OUT"
cp "$CRATE"/js/*.js "$CRATE/js/consult_client.d.ts" "$OUT/"
cp "$CRATE"/js/react-native/*.js "$CRATE"/js/react-native/*.d.ts "$OUT/"
cp "$TMP/consult_core_wasm2js.js" "$OUT/"
cp "$TMP/consult_client.d.ts" "$OUT/consult_core.d.ts"
node - "$TMP" "$OUT" <<'JS'
const fs = require("node:fs");
const path = require("node:path");
const [tmp, out] = process.argv.slice(2);
const die = (message) => {
  console.error("[build-react-native] error: " + message);
  process.exit(1);
};
/** Replaces every match of `pattern` (a global RegExp) in `text`; dies when there is none. */
function patch(text, pattern, replacement, what) {
  if (!pattern.test(text)) die(`glue patch no longer applies (${what}): wasm-bindgen's output changed`);
  pattern.lastIndex = 0;
  return text.replace(pattern, replacement);
}

// wasm-bindgen's bundler entry becomes consult_core.js (the driver imports that name), loading
// the wasm2js module where the bundler build loads the .wasm.
let entry = fs.readFileSync(path.join(tmp, "consult_client.js"), "utf8");
entry = patch(entry, /"\.\/consult_client_bg\.wasm"/g, '"./consult_core_wasm2js.js"', "wasm import");
entry = entry.replace("@ts-self-types=\"./consult_client.d.ts\"", "@ts-self-types=\"./consult_core.d.ts\"");
fs.writeFileSync(path.join(out, "consult_core.js"), entry);

let glue = fs.readFileSync(path.join(tmp, "consult_client_bg.js"), "utf8");
// wasm2js grows memory by copying into a new ArrayBuffer and leaves the old one attached, so a
// cached view keeps its byteLength: refresh views whenever the buffer is not the memory's.
glue = patch(glue, /(cached\w+Memory0)\.byteLength === 0/g, "$1.buffer !== wasm.memory.buffer", "typed-array views");
glue = glue.replace(
  /(cachedDataViewMemory0)\.buffer\.detached === true \|\| \(\1\.buffer\.detached === undefined && \1\.buffer !== wasm\.memory\.buffer\)/g,
  "$1.buffer !== wasm.memory.buffer",
);
if (/byteLength === 0|\.detached\b/.test(glue)) die("a memory view is still checked by byteLength/detached: patch it");
// No TextDecoder in Hermes: the glue takes both codecs from ./utf8.js (the platform's or a
// fallback), bound before its first line runs.
if (/\b(let|const|var|function|class)\s+Text(De|En)coder\b/.test(glue)) die("the glue declares TextDecoder/TextEncoder itself");
glue = 'import { TextDecoder, TextEncoder } from "./utf8.js";\n' + glue;
// No i64 across the boundary: wasm-bindgen passes i64/u64 as BigInt, which the driver never
// expects (times are f64 ms).
if (/\bBigInt\b/.test(glue)) die("an export takes or returns a 64-bit integer (BigInt in the glue): use f64");
fs.writeFileSync(path.join(out, "consult_client_bg.js"), glue);

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
  sideEffects: ["./consult_core.js"],
};
fs.writeFileSync(path.join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
JS

log "done: $OUT ($(cat "$OUT"/*.js | wc -c) B of JavaScript)"
