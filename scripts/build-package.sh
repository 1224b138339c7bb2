#!/usr/bin/env bash
# Builds consult-client's npm package, offline, for both wasm-pack targets:
#   target/pkg-web      --target web      (ES module with an explicit init / initSync)
#   target/pkg-bundler  --target bundler  (for webpack, Vite, Rollup, …)
# wasm-opt must be npm binaryen 132 (tests/node_modules/.bin, put first on PATH here): Debian's
# binaryen 108 silently corrupts wasm-bindgen 0.2.130 output (see ../shared/TOOLCHAIN.md).
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

for target in web bundler; do
  log "wasm-pack build --target $target -> target/pkg-$target"
  wasm-pack build --mode no-install --release --target "$target" \
    --out-dir "../../target/pkg-$target" "$CRATE"
  [[ -f "target/pkg-$target/consult_client_bg.wasm" ]] \
    || die "target/pkg-$target/consult_client_bg.wasm missing after the build"
  # wasm-bindgen types the raw wasm exports (`InitOutput`, returned by init/initSync of the web
  # build, and the *_bg.wasm.d.ts) with `any`: make them `unknown`, so that no `any` reaches a
  # consumer's type checker.
  for dts in "target/pkg-$target"/*.d.ts; do
    sed -i -E 's/([:(<,|]\s*)any([^A-Za-z0-9_$]|$)/\1unknown\2/g' "$dts"
  done
done
log "done: target/pkg-web, target/pkg-bundler"
