#!/usr/bin/env bash
# Builds the wasm of consult-core's machines and their exports, as both npm package builds need
# it: consult-client without its Rust API (`--no-default-features --features js-video,small-alloc`;
# no wasm-bindgen, no import), std rebuilt from source (`-Z build-std`, rust-src) with
# `panic = immediate-abort` (a panic, which no input reaches, is a bare trap instead of linking
# std's panic formatting: ~3.5 KB gz) and no location or Debug text. Those are unstable flags of
# the stable toolchain, enabled for this build only by RUSTC_BOOTSTRAP=1, in a target dir of
# its own so that they never invalidate the normal builds. Prints the .wasm's path.
#
# Usage: [CORE_FEATURES=…] scripts/build-core-wasm.sh TARGET_DIR [RUSTFLAG ...]
#   build-package.sh:      target/wasm-pkg (twice: the main entry's core, and the slim entry's
#                          with CORE_FEATURES=js,small-alloc: no socket machine)
#   build-react-native.sh: target/react-native-wasm2js -C target-cpu=mvp … (what wasm2js takes)
#   CORE_FEATURES: consult-client's features (default js-video,small-alloc: every machine).
set -euo pipefail

die() { printf '[build-core-wasm] error: %s\n' "$*" >&2; exit 1; }
[[ $# -ge 1 ]] || die "usage: scripts/build-core-wasm.sh TARGET_DIR [RUSTFLAG ...]"
TARGET_DIR="$1"
shift
FEATURES="${CORE_FEATURES:-js-video,small-alloc}"

# std is rebuilt from its sources (scripts/setup.sh installs them; idempotent here too).
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  printf '[build-core-wasm] rustup component add rust-src (std is rebuilt for the package)\n' >&2
  rustup component add rust-src >&2 || die "could not install rust-src"
fi

printf '[build-core-wasm] cargo build --features %s (std rebuilt, panic=immediate-abort%s) in %s\n' "$FEATURES" "${*:+, $*}" "$TARGET_DIR" >&2
RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="$* -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
  CARGO_TARGET_DIR="$TARGET_DIR" \
  cargo build --locked --release --target wasm32-unknown-unknown -p consult-client \
  --no-default-features --features "$FEATURES" -Z build-std=std,panic_abort >&2
WASM="$TARGET_DIR/wasm32-unknown-unknown/release/consult_client.wasm"
[[ -f "$WASM" ]] || die "$WASM missing after the build"
printf '%s\n' "$WASM"
