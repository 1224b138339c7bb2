#!/usr/bin/env bash
# End-to-end tests of the demo (consult-web): the release build in dist/, served by the real
# consult-stub (--static-dir dist), driven in headless Debian Chromium through playwright-core
# (tests/e2e/demo.test.js). Artifacts: target/e2e/consultation.png (and *-failure.png on failure).
#
# Usage: scripts/test-e2e.sh [--no-build]
#   builds the demo with scripts/build-web.sh when that script exists (--no-build: use dist/ as
#   it is), builds target/debug/consult-stub if missing (or uses CONSULT_STUB_BIN), then runs
#   `node --test --test-concurrency=1 e2e/` in tests/.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
export CONSULT_STUB_BIN="${CONSULT_STUB_BIN:-$ROOT/target/debug/consult-stub}"

BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    *) echo "usage: scripts/test-e2e.sh [--no-build]" >&2; exit 2 ;;
  esac
done


if [[ "$BUILD" == 1 && -f scripts/build-web.sh ]]; then
  step "build the demo (scripts/build-web.sh)"
  bash scripts/build-web.sh
fi
if [[ ! -f dist/index.html ]]; then
  echo "dist/index.html is missing: build the demo: scripts/build-web.sh" >&2
  exit 1
fi

if [[ ! -x "$CONSULT_STUB_BIN" ]]; then
  step "build consult-stub"
  cargo build --locked -p consult-stub
fi

if [[ ! -d tests/node_modules/playwright-core ]]; then
  step "install the test dependencies (tests/package-lock.json)"
  (cd tests && npm ci --no-audit --no-fund)
fi

step "end-to-end: the demo in headless Chromium against consult-stub"
mkdir -p target/e2e
cd tests
node --test --test-concurrency=1 e2e/
