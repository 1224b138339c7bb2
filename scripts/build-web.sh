#!/usr/bin/env bash
# Builds the demo (consult-web, Leptos CSR) with trunk into dist/, offline.
# wasm-opt must be npm binaryen 132 (tests/node_modules/.bin first on PATH; Trunk.toml pins it).
# Usage: scripts/build-web.sh   (expects scripts/setup.sh done)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
cargo fetch --locked >/dev/null
trunk build --release
test -f dist/index.html
