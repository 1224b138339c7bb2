#!/usr/bin/env bash
# consult-client's browser tests: headless Chromium (Debian's) via wasm-pack, against real
# consult-stub instances started by tests/support/browser-stubs.mjs. Their URLs reach the tests
# at compile time (the page cannot read this script's environment).
# tests/trace_equality.rs needs no stub: core's trace scenarios over a scripted world.
# Usage: scripts/test-browser.sh   (expects scripts/setup.sh done and target/debug/consult-stub built)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
export CONSULT_STUB_BIN="${CONSULT_STUB_BIN:-$ROOT/target/debug/consult-stub}"

LINE_FILE="$(mktemp)"
node tests/support/browser-stubs.mjs >"$LINE_FILE" &
STUBS_PID=$!
trap 'kill "$STUBS_PID" 2>/dev/null; wait "$STUBS_PID" 2>/dev/null; rm -f "$LINE_FILE"' EXIT
for _ in $(seq 1 100); do
  [[ -s "$LINE_FILE" ]] && break
  kill -0 "$STUBS_PID" 2>/dev/null || { echo "browser-stubs failed to start" >&2; exit 1; }
  sleep 0.1
done
read_url() { node -e "process.stdout.write(JSON.parse(require('fs').readFileSync('$LINE_FILE','utf8'))['$1'])"; }
export CONSULT_STUB_URL="$(read_url main)"
export CONSULT_STUB_REUSE0_URL="$(read_url reuse0)"
export CONSULT_STUB_RESTARTABLE_URL="$(read_url restartable)"
export CONSULT_SUPERVISOR_URL="$(read_url supervisor)"

export CHROMEDRIVER=/usr/bin/chromedriver
export WASM_BINDGEN_TEST_TIMEOUT=120
wasm-pack test --headless --chrome --mode no-install crates/consult-client
