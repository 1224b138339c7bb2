#!/usr/bin/env bash
# Tests consult-client/react (the hooks) and the Expo example app, in the tools React and React
# Native developers use, against a real consult-stub (target/debug/consult-stub, or
# CONSULT_STUB_BIN):
#   1. the hooks' declarations: no `any`, tsc (tests/react/tsconfig.json, @types/react 19); their
#      JavaScript with checkJs (tsconfig.hooks.json);
#   2. a React 19 web app with the packed package installed, served by Vite's dev server
#      (StrictMode: effects mounted twice) and built by `vite build`, in headless Chromium
#      (tests/react/react-web.test.js);
#   3. the packed package installed into examples/expo (npm install --no-save of the tarball: the
#      example's package-lock.json stays the one committed);
#   4. `npx expo export --platform android` of examples/expo (Metro, then hermesc to Hermes
#      bytecode), failing if Metro did not take the package's React Native entry or if anything
#      in the bundle needs WebAssembly (tests/react/expo-export.mjs);
#   5. Jest with the react-native preset (jest-expo) and React Native Testing Library in
#      examples/expo/__tests__ (AsyncStorage's Jest mock, consult-stub started by the run).
# Every step runs; the script exits 1 if any failed.
#
# Usage: scripts/test-react.sh [--no-build]
#   --no-build   use the existing target/pkg (scripts/test.sh: test-package.sh built it just before)
# Expects scripts/setup.sh done (tests/node_modules and examples/expo/node_modules).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
export CONSULT_STUB_BIN="${CONSULT_STUB_BIN:-$ROOT/target/debug/consult-stub}"
EXPO="$ROOT/examples/expo"

BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-react.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

FAILED=()

if [[ $BUILD -eq 1 ]]; then
  step "build the npm package"
  bash scripts/build-package.sh
fi
[[ -f target/pkg/react/index.js ]] || die "target/pkg/react missing: run scripts/build-package.sh"
[[ -d "$EXPO/node_modules/expo" ]] || die "$EXPO/node_modules missing: run scripts/setup.sh"
if [[ ! -x "$CONSULT_STUB_BIN" ]]; then
  step "build consult-stub"
  cargo build --locked -p consult-stub
fi

step "consult-client/react's declarations (no any; tsc) and JavaScript (tsc, checkJs)"
if grep -nE '[:(<,|]\s*any([^A-Za-z0-9_$]|$)' target/pkg/react/*.d.ts; then
  FAILED+=("any in react/index.d.ts")
fi
for config in tests/react/tsconfig.json tests/react/tsconfig.hooks.json; do
  if ! tsc -p "$config"; then
    FAILED+=("tsc -p $config")
  fi
done

step "a React 19 web app (Vite dev server with StrictMode, and vite build) in Chromium"
if ! (cd tests && node --test --test-concurrency=1 react/); then
  FAILED+=("react web tests")
fi

step "consult-client/react's size as Vite ships it (not budgeted: printed)"
(cd tests && node react/measure.mjs) || FAILED+=("hooks size")

step "the packed package installed into examples/expo"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
npm pack --silent --pack-destination "$WORK" ./target/pkg >/dev/null
(cd "$EXPO" && npm install --no-save --no-audit --no-fund --prefer-offline "$WORK"/consult-client-*.tgz)

step "examples/expo: npx expo export --platform android (Metro + hermesc), no WebAssembly"
if ! node tests/react/expo-export.mjs "$WORK/dist"; then
  FAILED+=("expo export")
fi

step "examples/expo: Jest (react-native preset) + React Native Testing Library against consult-stub"
if ! (cd "$EXPO" && node_modules/.bin/jest --ci); then
  FAILED+=("jest")
fi

if ((${#FAILED[@]} > 0)); then
  printf '\ntest-react: FAILED: %s\n' "$(IFS=';'; echo "${FAILED[*]}")" >&2
  exit 1
fi
printf '\ntest-react: all passed\n'
