#!/usr/bin/env bash
# Builds the npm package consult-client into target/pkg: its wasm cores (stable Rust), the React
# Native entry (wasm2js) and the package layout. The program that does it, and says how, is
# crates/consult-js/build/package.mjs.
#
# Usage: scripts/build-package.sh   (expects scripts/setup.sh done)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
exec node crates/consult-js/build/package.mjs build
