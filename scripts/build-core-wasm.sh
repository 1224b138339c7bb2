#!/usr/bin/env bash
# Builds the wasm of consult-core's machines and their exports, as both npm package builds need
# it: consult-client without its Rust API (`--no-default-features --features js-video,small-alloc`;
# no wasm-bindgen, no import). Stable Rust only: without its Rust API the crate is `no_std`
# (consult-core is too), so the prebuilt `core` and `alloc` of the pinned toolchain
# (rust-toolchain.toml) serve it; its panic handler is a bare trap and formats nothing, so no
# panic message, location or Debug text is linked. In a target dir of its own, so the release
# profile of this build never invalidates the normal builds. Prints the .wasm's path.
#
# Usage: [CORE_FEATURES=…] scripts/build-core-wasm.sh TARGET_DIR [RUST_TARGET]
#   build-package.sh:      target/wasm-pkg, wasm32-unknown-unknown (the default); twice: the main
#                          entry's core, and the slim entry's with CORE_FEATURES=js,small-alloc
#                          (no socket machine)
#   build-react-native.sh: target/react-native-wasm2js, wasm32v1-none (WebAssembly 1.0: no
#                          reference types, no multivalue, no bulk memory — what wasm2js takes)
#   CORE_FEATURES: consult-client's features (default js-video,small-alloc: every machine).
set -euo pipefail

die() { printf '[build-core-wasm] error: %s\n' "$*" >&2; exit 1; }
[[ $# -ge 1 && $# -le 2 ]] || die "usage: scripts/build-core-wasm.sh TARGET_DIR [RUST_TARGET]"
TARGET_DIR="$1"
RUST_TARGET="${2:-wasm32-unknown-unknown}"
FEATURES="${CORE_FEATURES:-js-video,small-alloc}"

# The target comes with the pinned toolchain (rust-toolchain.toml; scripts/setup.sh adds it).
if ! rustup target list --installed 2>/dev/null | grep -qx "$RUST_TARGET"; then
  printf '[build-core-wasm] rustup target add %s\n' "$RUST_TARGET" >&2
  rustup target add "$RUST_TARGET" >&2 || die "could not add the $RUST_TARGET target"
fi

printf '[build-core-wasm] cargo build --release --target %s --features %s in %s\n' "$RUST_TARGET" "$FEATURES" "$TARGET_DIR" >&2
CARGO_TARGET_DIR="$TARGET_DIR" \
  cargo build --locked --release --target "$RUST_TARGET" -p consult-client \
  --no-default-features --features "$FEATURES" >&2
WASM="$TARGET_DIR/$RUST_TARGET/release/consult_client.wasm"
[[ -f "$WASM" ]] || die "$WASM missing after the build"
printf '%s\n' "$WASM"
