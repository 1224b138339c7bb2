#!/usr/bin/env bash
# The whole test suite: set-up (idempotent), lint, Rust tests, interop tests against real peers.
# Usage: scripts/test.sh
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"


step "set-up"
bash scripts/setup.sh

step "format and lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
cargo clippy -p consult-client --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
# The npm package's cores as crates/consult-js/build/package.mjs builds them (`no_std` on wasm32):
# with the socket machine (the main entry, and React Native's on WebAssembly 1.0) and without it
# (consult-client/slim).
for target in wasm32-unknown-unknown wasm32v1-none; do
  cargo clippy -p consult-js --target "$target" --lib --locked -- -D warnings
done
cargo clippy -p consult-js --target wasm32-unknown-unknown --lib --no-default-features --locked -- -D warnings

step "Rust tests (unit, integration, doc)"
cargo test --workspace --all-features --locked

step "interop: official socket.io-client against the consult-stub binary"
cargo build --locked -p consult-stub
export CONSULT_STUB_BIN="$ROOT/target/debug/consult-stub"
(cd tests && node --test --test-concurrency=1 interop/)

step "consult-client in headless Chromium against real consult-stub instances"
bash scripts/test-browser.sh

step "consult-client as an npm package: build, d.ts (no any, tsc), plain-JS consumer in Node"
bash scripts/test-package.sh

step "consult-client/react: a React web app in Chromium (StrictMode), the Expo example built by Metro + hermesc, Jest + React Native Testing Library"
bash scripts/test-react.sh --no-build

step "the demo end to end: trunk release build served by consult-stub, driven in Chromium"
bash scripts/test-e2e.sh

step "size of the npm package as Vite and webpack ship it (gzip -9): consult-client/slim within 30 KiB, consult-client within its ratchet"
bash scripts/size-budget.sh --no-build
