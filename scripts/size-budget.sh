#!/usr/bin/env bash
# The npm package's size as Vite and webpack ship it, per entry, against its ceilings:
# consult-client/slim within 30 KiB, consult-client and the React Native entry within their
# ratchets. What is measured and how: crates/consult-js/build/sizes.mjs.
#
# Usage: scripts/size-budget.sh [--no-build]
#   --no-build          measure the existing target/pkg (default: run build-package.sh first)
#   SIZE_BUDGET_BYTES   the ceiling for the slim entry, bytes (default: 30 KiB)
#   RATCHET_BYTES       the ceiling for the main entry, bytes (default: the ratchet)
# Exits 1 when an entry exceeds its ceiling, 2 on a usage or missing-file error.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h | --help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "size-budget.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done
if [[ $BUILD -eq 1 ]]; then
  bash scripts/build-package.sh
fi
exec node crates/consult-js/build/package.mjs sizes
