#!/usr/bin/env bash
# Builds consult-client's npm package, offline: ONE package, target/pkg (assemble-package.sh),
# the JavaScript driver crates/consult-client/js/ (+ hand-written .d.ts) over consult-core's
# decisions compiled to wasm by wasm-pack --target web (consult_core.js, consult_client_bg.wasm,
# staged in target/pkg-web), plus the React Native build (build-react-native.sh: the same core
# through wasm2js, target/pkg-react-native).
# wasm-opt must be npm binaryen 132 (tests/node_modules/.bin, put first on PATH here): Debian's
# binaryen 108 silently corrupts wasm-bindgen 0.2.130 output (the build succeeds, loading fails
# with "WebAssembly.Table.set(): Argument 1 is invalid for table").
# The wasm is built with std rebuilt from source (`-Z build-std`, rust-src: scripts/setup.sh step
# 1b) and `panic = immediate-abort`: a panic (none is reachable from input) traps at once instead
# of linking std's panic formatting, ~3.5 KB gz of wasm (BENCHMARKS.md, "Package size"). Those
# are unstable flags of the stable 1.95 toolchain, enabled for this build only by
# RUSTC_BOOTSTRAP=1; the build has its own target dir (target/wasm-pkg), so the flags never
# invalidate the normal builds.
# Idempotent: cargo and wasm-pack rebuild only what changed; each run replaces target/pkg-web and
# target/pkg.
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

out="target/pkg-web"
log "wasm-pack build --target web -> $out"
rm -rf "$out"
# The package needs the wasm exports (`js`) and the small allocator; the crate's defaults are
# what a Rust app needs.
wasm-pack build --mode no-install --release --target web --out-dir "../../$out" "$CRATE" \
  -- --features js,small-alloc -Z build-std=std,panic_abort
[[ -f "$out/consult_client_bg.wasm" ]] || die "$out/consult_client_bg.wasm missing after the build"
# The `producers` and `target_features` custom sections tell tools how the module was built;
# no engine reads them and they cost ~150 B gz. (Without -O this run changes nothing else;
# wasm-opt takes the features to allow from the section before dropping it.)
"$WASM_OPT" --strip-producers --strip-target-features "$out/consult_client_bg.wasm" -o "$out/consult_client_bg.wasm"
# wasm-bindgen's entry module becomes `consult_core.js`: the package's public module is the
# JavaScript driver `consult_client.js`.
mv "$out/consult_client.js" "$out/consult_core.js"
mv "$out/consult_client.d.ts" "$out/consult_core.d.ts"
sed -i 's|@ts-self-types="./consult_client.d.ts"|@ts-self-types="./consult_core.d.ts"|' "$out/consult_core.js"
# wasm-bindgen types the raw wasm exports (`InitOutput`, *_bg.wasm.d.ts) with `any`: make them
# `unknown`, so that no `any` reaches a consumer's type checker.
for dts in "$out"/*.d.ts; do
  sed -i -E 's/([:(<,|]\s*)any([^A-Za-z0-9_$]|$)/\1unknown\2/g' "$dts"
done
unset CARGO_TARGET_DIR RUSTC_BOOTSTRAP RUSTFLAGS

# THE package (target/pkg): the web build's glue and wasm behind an `exports` map.
if [[ -f "$ROOT/scripts/build-react-native.sh" ]]; then
  bash "$ROOT/scripts/build-react-native.sh"
fi
bash "$ROOT/scripts/assemble-package.sh"
log "done: target/pkg"
