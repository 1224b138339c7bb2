#!/usr/bin/env bash
# Tests consult-client's npm package as a consumer sees it:
#   1. builds it (scripts/build-package.sh: target/pkg-web and target/pkg-bundler);
#   2. no `any` in the public declarations (consult_client.d.ts of both builds; the web build's
#      `InitOutput` — wasm-bindgen's raw export table returned by init/initSync — is reported,
#      not failed);
#   3. type-checks tests/package/types-check.ts against both builds' .d.ts with tsc (typescript
#      from tests/node_modules, pinned in tests/package.json);
#   4. runs the plain-JS consumer test (tests/package/*.test.js, Node 20, memory storage) against
#      a real consult-stub (target/debug/consult-stub, or CONSULT_STUB_BIN).
# Every step runs; the script exits 1 if any failed.
#
# Usage: scripts/test-package.sh   (expects scripts/setup.sh done)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
export CONSULT_STUB_BIN="${CONSULT_STUB_BIN:-$ROOT/target/debug/consult-stub}"

step() { printf '\n==> %s\n' "$*"; }
FAILED=()

step "build the npm package"
bash scripts/build-package.sh

if [[ ! -x "$CONSULT_STUB_BIN" ]]; then
  step "build consult-stub (the consumer test's server)"
  cargo build --locked -p consult-stub
fi

step "no 'any' in the public declarations"
any_found=0
for dts in target/pkg-bundler/consult_client.d.ts target/pkg-web/consult_client.d.ts; do
  # Lines with the word `any` outside `export interface InitOutput { … }`.
  public_any="$(awk '/^export interface InitOutput/ {skip=1} skip && /^}/ {skip=0; next} !skip && /(^|[^A-Za-z0-9_$])any([^A-Za-z0-9_$]|$)/ {print FILENAME ":" FNR ": " $0}' "$dts")"
  raw_any="$(awk '/^export interface InitOutput/ {skip=1} skip && /(^|[^A-Za-z0-9_$])any([^A-Za-z0-9_$]|$)/ {n++} skip && /^}/ {skip=0} END {print n+0}' "$dts")"
  if [[ -n "$public_any" ]]; then
    printf '%s\n' "$public_any"
    any_found=1
  fi
  echo "$dts: public surface $( [[ -n "$public_any" ]] && echo "HAS any" || echo "no any" ); InitOutput (raw wasm exports): $raw_any lines with any"
done
[[ $any_found -eq 0 ]] || FAILED+=("any in public d.ts")

step "type-check tests/package/types-check.ts against both builds (tsc)"
TSC="$ROOT/tests/node_modules/.bin/tsc"
if [[ ! -x "$TSC" ]]; then
  echo "tsc missing at $TSC: run scripts/setup.sh (installs typescript from tests/package-lock.json)" >&2
  FAILED+=("tsc missing")
else
  echo "$("$TSC" --version)"
  for config in tests/package/tsconfig.json tests/package/tsconfig.bundler.json; do
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

if ((${#FAILED[@]} > 0)); then
  printf '\ntest-package: FAILED: %s\n' "$(IFS=';'; echo "${FAILED[*]}")" >&2
  exit 1
fi
printf '\ntest-package: all passed\n'
