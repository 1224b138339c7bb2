#!/usr/bin/env bash
# Builds the demo (consult-web, Leptos CSR) with trunk into dist/, offline.
# The tools trunk runs are pinned where they are defined, and trunk must find exactly those
# (offline, a different version on PATH is an error): wasm-bindgen at the workspace's version
# (Cargo.toml), wasm-opt from npm binaryen (tests/package.json; tests/node_modules/.bin is first
# on PATH). Debian's binaryen 108 corrupts the output.
# Usage: scripts/build-web.sh   (expects scripts/setup.sh done)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
TRUNK_TOOLS_WASM_BINDGEN="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)"
TRUNK_TOOLS_WASM_OPT="version_$(node -p 'require("./tests/package.json").devDependencies.binaryen.split(".")[0]')"
[[ -n "$TRUNK_TOOLS_WASM_BINDGEN" ]] || die "no wasm-bindgen pin (wasm-bindgen = \"=x.y.z\") in Cargo.toml"
export TRUNK_TOOLS_WASM_BINDGEN TRUNK_TOOLS_WASM_OPT
cargo fetch --locked >/dev/null
trunk build --release
test -f dist/index.html
