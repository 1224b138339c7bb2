#!/usr/bin/env bash
# Tests consult-client's npm package as a consumer sees it:
#   1. builds it (scripts/build-package.sh → target/pkg, one package);
#   2. no `any` in any of its declaration files (all hand-written);
#   3. type-checks the declarations with tsc (typescript from tests/node_modules, pinned in
#      tests/package.json): types-check.ts with the newest lib, types-check-common.ts with a
#      common tsconfig (`lib: ["es2022", "dom"]`, `skipLibCheck: false`), and the JavaScript
#      driver itself with checkJs (tsconfig.driver.json: undefined names, wrong imports);
#   4. runs the plain-JS tests (tests/package/*.test.js) against a real consult-stub
#      (target/debug/consult-stub, or CONSULT_STUB_BIN): the consumer test (Node 20, memory
#      storage); in headless /usr/bin/chromium through playwright-core: the two-tab test, the
#      token and polling scenarios, the trace-equality scenarios (core's
#      crates/consult-core/tests/data/traces.json), the video-session scenarios, the Socket.IO interop test
#      (against the official npm socket.io 4.8 server and socket.io-client), the soak, the fault
#      soak (a failed IndexedDB open, a wall clock stepping back an hour, two stub instances on
#      Redis 7 s apart through libfaketime: tests/package/fault-soak.test.js, ~70 s);
#   5. packs the package and installs the tarball into Vite 8, webpack 5 and Node 20 apps
#      (tests/consumers/), each signing in, refreshing and polling to `ended` against the stub;
#   6. the React Native entry (target/pkg/react-native: consult-core through wasm2js, built with
#      the package): its .d.ts with tsc, then tests/react-native/*.test.js — in
#      Node 20 without WebAssembly, localStorage, BroadcastChannel and navigator.locks against
#      consult-stub, and in the Hermes engine (npm hermes-engine-cli) after React Native's Babel
#      preset.
# Every step runs; the script exits 1 if any failed.
#
# Usage: scripts/test-package.sh   (expects scripts/setup.sh done)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
export CONSULT_STUB_BIN="${CONSULT_STUB_BIN:-$ROOT/target/debug/consult-stub}"

FAILED=()

step "build the npm package"
bash scripts/build-package.sh

if [[ ! -x "$CONSULT_STUB_BIN" ]]; then
  step "build consult-stub (the consumer test's server)"
  cargo build --locked -p consult-stub
fi

step "no 'any' in the declarations"
# `any` in a type position (after `:`, `(`, `<`, `,` or `|`), in every .d.ts of the package.
if grep -nE '[:(<,|]\s*any([^A-Za-z0-9_$]|$)' target/pkg/*.d.ts; then
  FAILED+=("any in d.ts")
else
  echo "no any in target/pkg/*.d.ts"
fi

step "type-check the declarations (newest lib, and a common tsconfig without esnext.disposable) and the JS driver (tsc)"
TSC="$ROOT/tests/node_modules/.bin/tsc"
if [[ ! -x "$TSC" ]]; then
  echo "tsc missing at $TSC: run scripts/setup.sh (installs typescript from tests/package-lock.json)" >&2
  FAILED+=("tsc missing")
else
  echo "$("$TSC" --version)"
  for config in tests/package/tsconfig.json tests/package/tsconfig.common.json tests/package/tsconfig.driver.json; do
    if "$TSC" -p "$config"; then
      echo "ok: $config"
    else
      FAILED+=("tsc -p $config")
    fi
  done
fi

step "plain-JS consumer test (Node 20, built package, real consult-stub)"
if ! (cd tests && node --test --test-concurrency=1 package/); then
  FAILED+=("consumer test")
fi

step "the packed tarball installed into Vite 8 (build and dev server), webpack 5 and Node 20 apps, no bundler configuration"
if ! (cd tests && node --test --test-concurrency=1 consumers/); then
  FAILED+=("consumer apps")
fi

step "React Native entry (wasm2js, built with the package): types, Node without WebAssembly, Hermes"
if [[ ! -f target/pkg/react-native/index.js ]]; then
  FAILED+=("no react-native entry in target/pkg")
else
  if ! "$TSC" -p tests/react-native/tsconfig.json; then
    FAILED+=("tsc -p tests/react-native/tsconfig.json")
  fi
  if ! (cd tests && node --test --test-concurrency=1 react-native/); then
    FAILED+=("react-native tests")
  fi
fi

if ((${#FAILED[@]} > 0)); then
  printf '\ntest-package: FAILED: %s\n' "$(IFS=';'; echo "${FAILED[*]}")" >&2
  exit 1
fi
printf '\ntest-package: all passed\n'
