#!/usr/bin/env bash
# Builds consult-client's npm package, offline, for both wasm-pack targets. The package is the
# JavaScript driver crates/consult-client/js/consult_client.js (+ .d.ts) over consult-core's
# decisions compiled to wasm by wasm-pack (consult_core.js, consult_client_bg.wasm):
#   target/pkg-web      --target web      (ES module with an explicit init / initSync)
#   target/pkg-bundler  --target bundler  (for webpack, Vite, Rollup, …)
# wasm-opt must be npm binaryen 132 (tests/node_modules/.bin, put first on PATH here): Debian's
# binaryen 108 silently corrupts wasm-bindgen 0.2.130 output (the build succeeds, loading fails
# with "WebAssembly.Table.set(): Argument 1 is invalid for table").
# The wasm is built with std rebuilt from source (`-Z build-std`, rust-src: scripts/setup.sh step
# 1b) and `panic = immediate-abort`: a panic (none is reachable from input) traps at once instead
# of linking std's panic formatting, ~3.5 KB gz of wasm (BENCHMARKS.md, "Package size"). Those
# are unstable flags of the stable 1.95 toolchain, enabled for this build only by
# RUSTC_BOOTSTRAP=1; the build has its own target dir (target/wasm-pkg), so the flags never
# invalidate the normal builds.
# Idempotent: cargo and wasm-pack rebuild only what changed; each run replaces both folders.
#
# Usage: scripts/build-package.sh   (expects scripts/setup.sh done)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/tests/node_modules/.bin:$HOME/.cargo/bin:$PATH"
CRATE="crates/consult-client"
WASM_OPT_VERSION="132"

die() { printf '[build-package] error: %s\n' "$*" >&2; exit 1; }
log() { printf '[build-package] %s\n' "$*" >&2; }

command -v wasm-pack >/dev/null 2>&1 || die "wasm-pack not on PATH: run scripts/setup.sh"
command -v wasm-bindgen >/dev/null 2>&1 || die "wasm-bindgen not on PATH: run scripts/setup.sh"

WASM_OPT="$(command -v wasm-opt || true)"
[[ -n "$WASM_OPT" ]] || die "wasm-opt not on PATH: run scripts/setup.sh (installs npm binaryen $WASM_OPT_VERSION into tests/node_modules)"
WASM_OPT_SAYS="$("$WASM_OPT" --version 2>&1 || true)"
if ! grep -Eq "^wasm-opt version $WASM_OPT_VERSION( |$)" <<<"$WASM_OPT_SAYS"; then
  die "wasm-opt at $WASM_OPT says '$WASM_OPT_SAYS'; version $WASM_OPT_VERSION (npm binaryen@$WASM_OPT_VERSION.0.0) is required — Debian's binaryen corrupts the output. Run scripts/setup.sh."
fi
log "wasm-opt: $WASM_OPT ($WASM_OPT_SAYS)"
SYSROOT="$(rustc --print sysroot)"
[[ -d "$SYSROOT/lib/rustlib/src/rust/library/std" ]] || die "rust-src missing (std is rebuilt for the package): run scripts/setup.sh"

# std rebuilt with the package's flags, in a target dir of its own (wasm-pack finds it through
# `cargo metadata`, which honours CARGO_TARGET_DIR).
export CARGO_TARGET_DIR="$ROOT/target/wasm-pkg"
export RUSTC_BOOTSTRAP=1
export RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none"

for target in web bundler; do
  out="target/pkg-$target"
  log "wasm-pack build --target $target -> $out"
  rm -rf "$out"
  # The package needs the wasm exports (`js`) and the small allocator; the crate's defaults are
  # what a Rust app needs.
  wasm-pack build --mode no-install --release --target "$target" --out-dir "../../$out" "$CRATE" \
    -- --features js,small-alloc -Z build-std=std,panic_abort
  [[ -f "$out/consult_client_bg.wasm" ]] || die "$out/consult_client_bg.wasm missing after the build"
  # The `producers` and `target_features` custom sections tell tools how the module was built;
  # no engine reads them and they cost ~150 B gz. (Without -O this run changes nothing else;
  # wasm-opt takes the features to allow from the section before dropping it.)
  "$WASM_OPT" --strip-producers --strip-target-features "$out/consult_client_bg.wasm" -o "$out/consult_client_bg.wasm"
  # The package's entry is the JavaScript driver `consult_client.js` (hand-written types) over
  # consult-core's decisions (src/js/): wasm-bindgen's entry module becomes `consult_core.js`.
  # The wasm keeps its name, so `init({ module_or_path: ".../consult_client_bg.wasm" })` holds.
  mv "$out/consult_client.js" "$out/consult_core.js"
  mv "$out/consult_client.d.ts" "$out/consult_core.d.ts"
  sed -i 's|@ts-self-types="./consult_client.d.ts"|@ts-self-types="./consult_core.d.ts"|' "$out/consult_core.js"
  cp "$CRATE"/js/*.js "$CRATE/js/consult_client.d.ts" "$out/"
  if [[ $target == web ]]; then
    # The web build loads the wasm explicitly: `await init()` (or `initSync`) before any call.
    printf '\n// The web build: `await init()` (or `initSync({ module })`) before using the client.\nexport { default, initSync } from "./consult_core.js";\n' \
      | tee -a "$out/consult_client.js" >>"$out/consult_client.d.ts"
    printf 'export type { InitInput, InitOutput, SyncInitInput } from "./consult_core.js";\n' >>"$out/consult_client.d.ts"
  fi
  # wasm-bindgen types the raw wasm exports (`InitOutput`, returned by init/initSync of the web
  # build, and the *_bg.wasm.d.ts) with `any`: make them `unknown`, so that no `any` reaches a
  # consumer's type checker.
  for dts in "$out"/*.d.ts; do
    sed -i -E 's/([:(<,|]\s*)any([^A-Za-z0-9_$]|$)/\1unknown\2/g' "$dts"
  done
  # package.json: the driver is the entry point; ship every built file.
  node - "$out" <<'JS'
const fs = require("node:fs");
const path = require("node:path");
const dir = process.argv[2];
const file = path.join(dir, "package.json");
const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
pkg.main = "consult_client.js";
if (pkg.module) pkg.module = "consult_client.js";
pkg.types = "consult_client.d.ts";
pkg.files = fs.readdirSync(dir).filter((f) => /\.(js|d\.ts|wasm)$/.test(f)).sort();
pkg.sideEffects = ["./consult_core.js"];
fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n");
JS
done
log "done: target/pkg-web, target/pkg-bundler"
