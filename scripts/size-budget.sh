#!/usr/bin/env bash
# Size budget of consult-client's npm package, as an application ships it: the package entry
# (target/pkg-bundler/consult_client.js, the JavaScript driver, with the wasm-bindgen glue it
# imports) bundled and minified by esbuild, as a consumer's bundler does, plus the .wasm
# (wasm-opt -Oz, binaryen 132). Each part is gzipped (-9) on its own, as a server sends it, and
# the sum is checked against the budget. This is how the issue's anchors (oidc-client-ts,
# supabase auth-js, socket.io-client) are measured too: minified and gzipped. For reference the
# script also prints the package's files as they are, unminified.
#
# Two numbers: the TARGET (30 KiB, the issues' budget) and the RATCHET the script enforces. The
# token session machine moved into the wasm (one logic for every driver) and took the package
# over the target (BENCHMARKS.md, "Package size"); until the size work brings it back, the
# ratchet is the measured size rounded up, so the package cannot grow unnoticed.
#
# Usage: scripts/size-budget.sh [--no-build]
#   --no-build          measure the existing target/pkg-bundler (default: run build-package.sh first)
#   SIZE_BUDGET_BYTES   the enforced ceiling for the total gz size, bytes (default: the ratchet)
# Exits 1 when the total exceeds the ceiling, 2 on a usage or missing-file error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/target/pkg-bundler"
TARGET=30720   # 30 KiB: the issues' budget
RATCHET=35600  # measured 35,489 B: std rebuilt, panic = immediate-abort, smaller boundary and queues
BUDGET="${SIZE_BUDGET_BYTES:-$RATCHET}"
# Checked to exist; the listing below shows every .js and .wasm file of the package.
FILES=(consult_client_bg.wasm consult_client_bg.js consult_core.js consult_client.js)

BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h | --help)
      sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "size-budget.sh: unknown argument $arg (try --help)" >&2
      exit 2
      ;;
  esac
done
[[ "$BUDGET" =~ ^[0-9]+$ ]] || { echo "size-budget.sh: SIZE_BUDGET_BYTES must be a whole number of bytes" >&2; exit 2; }

if [[ $BUILD -eq 1 ]]; then
  bash "$ROOT/scripts/build-package.sh"
fi

for f in "${FILES[@]}"; do
  [[ -f "$PKG/$f" ]] || { echo "size-budget.sh: $PKG/$f missing: run scripts/build-package.sh" >&2; exit 2; }
done
ESBUILD="$ROOT/tests/node_modules/.bin/esbuild"
[[ -x "$ESBUILD" ]] || { echo "size-budget.sh: esbuild missing at $ESBUILD: run scripts/setup.sh" >&2; exit 2; }

gz() { gzip -9 -c "$1" | wc -c; }

printf '\nthe package files as they are (not what is budgeted):\n%-28s %10s %10s\n' "target/pkg-bundler/" "raw B" "gzip -9 B"
listed_raw=0
listed_gz=0
for path in "$PKG"/*.js "$PKG"/*.wasm; do
  raw=$(wc -c <"$path")
  zipped=$(gz "$path")
  listed_raw=$((listed_raw + raw))
  listed_gz=$((listed_gz + zipped))
  printf '%-28s %10d %10d\n' "$(basename "$path")" "$raw" "$zipped"
done
printf '%-28s %10d %10d\n' "total" "$listed_raw" "$listed_gz"

BUNDLE="$ROOT/target/size-budget/consult_client.min.js"
mkdir -p "$(dirname "$BUNDLE")"
"$ESBUILD" "$PKG/consult_client.js" --bundle --minify --format=esm '--external:*.wasm' \
  --log-level=warning --outfile="$BUNDLE"
js_raw=$(wc -c <"$BUNDLE")
js_gz=$(gz "$BUNDLE")
wasm_raw=$(wc -c <"$PKG/consult_client_bg.wasm")
wasm_gz=$(gz "$PKG/consult_client_bg.wasm")
total_gz=$((js_gz + wasm_gz))
printf '\nwhat an application ships (budgeted):\n%-28s %10s %10s\n' "" "raw B" "gzip -9 B"
printf '%-28s %10d %10d\n' "JS (esbuild bundle, minify)" "$js_raw" "$js_gz"
printf '%-28s %10d %10d\n' "consult_client_bg.wasm" "$wasm_raw" "$wasm_gz"
printf '%-28s %10d %10d\n' "total" "$((js_raw + wasm_raw))" "$total_gz"
printf '%-28s %10s %10d\n' "target (30 KiB)" "" "$TARGET"
printf '%-28s %10s %10d\n' "enforced ceiling" "" "$BUDGET"

if ((total_gz > BUDGET)); then
  printf '\nOVER BUDGET: %d B gz > %d B (by %d B, %.1f KiB)\n' \
    "$total_gz" "$BUDGET" $((total_gz - BUDGET)) "$(awk "BEGIN{print ($total_gz-$BUDGET)/1024}")"
  exit 1
fi
printf '\nwithin the enforced ceiling: %d B gz <= %d B (%d B to spare)\n' "$total_gz" "$BUDGET" $((BUDGET - total_gz))
if ((total_gz > TARGET)); then
  printf 'over the 30 KiB target by %d B (%.1f KiB)\n' $((total_gz - TARGET)) "$(awk "BEGIN{print ($total_gz-$TARGET)/1024}")"
fi
