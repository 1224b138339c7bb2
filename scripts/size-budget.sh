#!/usr/bin/env bash
# Size budget of consult-client's npm package (the --target bundler build, what a bundler ships):
# gzip -9 size of the .wasm plus its JS glue. Counted files:
#   target/pkg-bundler/consult_client_bg.wasm   the module (wasm-opt -Oz, binaryen 132)
#   target/pkg-bundler/consult_client_bg.js     the wasm-bindgen glue
#   target/pkg-bundler/consult_client.js        the entry that wires the two together
# (.d.ts files and package.json are not shipped to browsers and are not counted.)
# Each file is gzipped on its own, as a server would send it.
#
# Usage: scripts/size-budget.sh [--no-build]
#   --no-build          measure the existing target/pkg-bundler (default: run build-package.sh first)
#   SIZE_BUDGET_BYTES   budget for the total gz size, bytes (default 30720 = 30 KiB)
# Exits 1 when the total exceeds the budget, 2 on a usage or missing-file error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/target/pkg-bundler"
BUDGET="${SIZE_BUDGET_BYTES:-30720}"
FILES=(consult_client_bg.wasm consult_client_bg.js consult_client.js)

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

total_raw=0
total_gz=0
printf '\n%-28s %10s %10s\n' "target/pkg-bundler/" "raw B" "gzip -9 B"
for f in "${FILES[@]}"; do
  raw=$(wc -c <"$PKG/$f")
  gz=$(gzip -9 -c "$PKG/$f" | wc -c)
  total_raw=$((total_raw + raw))
  total_gz=$((total_gz + gz))
  printf '%-28s %10d %10d\n' "$f" "$raw" "$gz"
done
printf '%-28s %10d %10d\n' "total" "$total_raw" "$total_gz"
printf '%-28s %10s %10d\n' "budget" "" "$BUDGET"

if ((total_gz > BUDGET)); then
  printf '\nOVER BUDGET: %d B gz > %d B (by %d B, %.1f KiB)\n' \
    "$total_gz" "$BUDGET" $((total_gz - BUDGET)) "$(awk "BEGIN{print ($total_gz-$BUDGET)/1024}")"
  exit 1
fi
printf '\nwithin budget: %d B gz <= %d B (%d B to spare)\n' "$total_gz" "$BUDGET" $((BUDGET - total_gz))
