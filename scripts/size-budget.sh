#!/usr/bin/env bash
# Size budget of consult-client's npm package AS SHIPPED: the package (target/pkg) is packed,
# the tarball installed into the Vite 8 and webpack 5 apps of tests/consumers/ (an app that signs
# in, refreshes, polls, and joins the room when its entry has the video session), each built for
# production with no configuration, once per entry; every .js and .wasm file each build outputs
# is gzipped (-9) on its own, as a server sends it, and per entry the larger total is checked
# against its ceiling (tests/consumers/measure.mjs):
#   consult-client/slim  (no built-in video session: an app that signs in, refreshes and polls,
#                        or joins the room with socket.io-client)    ≤ 30 KiB, the issues' budget
#   consult-client       (with the built-in Socket.IO client)        ≤ RATCHET
# The main entry carries the socket machine in its wasm (one logic for every driver, 7 KB gz) and
# stays over 30 KiB (BENCHMARKS.md, "Package size"): its ceiling is the measured size rounded
# up, so it cannot grow unnoticed. Printed beside them, not budgeted: the main entry bundled and
# minified by esbuild with the .wasm left out (how the issues' anchors — oidc-client-ts,
# supabase auth-js, socket.io-client — were measured), and the package's files as they are.
#
# Usage: scripts/size-budget.sh [--no-build]
#   --no-build          measure the existing target/pkg (default: run build-package.sh first)
#   SIZE_BUDGET_BYTES   the ceiling for the slim entry, bytes (default: 30 KiB)
#   RATCHET_BYTES       the ceiling for the main entry, bytes (default: the ratchet)
# The React Native entry, bundled and minified by esbuild, has a ratchet of its own (RN_RATCHET).
# Exits 1 when an entry exceeds its ceiling, 2 on a usage or missing-file error.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PKG="$ROOT/target/pkg"
TARGET=30720   # 30 KiB: the issues' budget, for consult-client/slim
RATCHET=35300  # consult-client: measured 35,084 B (webpack, the larger; Vite 34,356) since the
               # stable-only build (no rebuilt std: +398 B): BENCHMARKS.md, "Stable Rust only"
BUDGET="${SIZE_BUDGET_BYTES:-$TARGET}"
MAIN_BUDGET="${RATCHET_BYTES:-$RATCHET}"
# The React Native entry (react-native/index.js, consult-core as wasm2js JavaScript), bundled and
# minified by esbuild (as a bundler would ship it): a ratchet of its own (measured 52,838 B).
RN_RATCHET=53500

BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    -h | --help)
      sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "size-budget.sh: unknown argument $arg (try --help)" >&2
      exit 2
      ;;
  esac
done
[[ "$BUDGET" =~ ^[0-9]+$ ]] || { echo "size-budget.sh: SIZE_BUDGET_BYTES must be a whole number of bytes" >&2; exit 2; }
[[ "$MAIN_BUDGET" =~ ^[0-9]+$ ]] || { echo "size-budget.sh: RATCHET_BYTES must be a whole number of bytes" >&2; exit 2; }

if [[ $BUILD -eq 1 ]]; then
  bash "$ROOT/scripts/build-package.sh"
fi

for f in index.js slim.js consult_core.js consult_client.js consult_client_bg.wasm consult_client_slim_bg.wasm package.json; do
  [[ -f "$PKG/$f" ]] || { echo "size-budget.sh: $PKG/$f missing: run scripts/build-package.sh" >&2; exit 2; }
done
ESBUILD="$ROOT/tests/node_modules/.bin/esbuild"
for tool in esbuild vite webpack; do
  [[ -x "$ROOT/tests/node_modules/.bin/$tool" ]] || { echo "size-budget.sh: $tool missing in tests/node_modules: run scripts/setup.sh" >&2; exit 2; }
done

gz() { gzip -9 -c "$1" | wc -c; }

printf '\nthe package files as they are (not budgeted):\n%-34s %10s %10s\n' "target/pkg/" "raw B" "gzip -9 B"
for path in "$PKG"/*.js "$PKG"/*.wasm; do
  printf '%-34s %10d %10d\n' "$(basename "$path")" "$(wc -c <"$path")" "$(gz "$path")"
done

BUNDLE="$ROOT/target/size-budget/consult_client.min.js"
mkdir -p "$(dirname "$BUNDLE")"
"$ESBUILD" "$PKG/index.js" --bundle --minify --format=esm '--external:*.wasm' --log-level=warning --outfile="$BUNDLE"
esbuild_js=$(gz "$BUNDLE")
wasm=$(gz "$PKG/consult_client_bg.wasm")
printf '\nesbuild, minified, the .wasm left out (not budgeted): JS %d + wasm %d = %d B gz\n' \
  "$esbuild_js" "$wasm" $((esbuild_js + wasm))

SIZES="$(cd "$ROOT/tests" && node consumers/measure.mjs)"
# One line per entry: name vite_js vite_wasm vite_total webpack_js webpack_wasm webpack_total
MEASURED="$(node -e '
const sizes = JSON.parse(process.argv[1]);
for (const [entry, s] of Object.entries(sizes)) {
  console.log([entry, s.vite.js, s.vite.wasm, s.vite.total, s.webpack.js, s.webpack.wasm, s.webpack.total].join(" "));
}' "$SIZES")"
printf '\nwhat an application ships (budgeted per entry: the larger build):\n%-34s %10s %10s %10s\n' "" "JS gz B" "wasm gz B" "total B"
declare -A SHIPPED
while read -r entry vite_js vite_wasm vite_total webpack_js webpack_wasm webpack_total; do
  printf '%s\n' "$entry"
  printf '  %-32s %10d %10d %10d\n' "Vite 8 (vite build)" "$vite_js" "$vite_wasm" "$vite_total"
  printf '  %-32s %10d %10d %10d\n' "webpack 5 (--mode production)" "$webpack_js" "$webpack_wasm" "$webpack_total"
  SHIPPED[$entry]=$((vite_total > webpack_total ? vite_total : webpack_total))
done <<<"$MEASURED"
slim_gz="${SHIPPED[consult-client/slim]:?measure.mjs did not measure consult-client/slim}"
main_gz="${SHIPPED[consult-client]:?measure.mjs did not measure consult-client}"
printf '%-34s %32d  (ceiling %d: the 30 KiB target)\n' "budgeted consult-client/slim" "$slim_gz" "$BUDGET"
printf '%-34s %32d  (ceiling %d: the ratchet)\n' "budgeted consult-client" "$main_gz" "$MAIN_BUDGET"

if [[ -f "$PKG/react-native/index.js" ]]; then
  RN_BUNDLE="$ROOT/target/size-budget/react_native.min.js"
  "$ESBUILD" "$PKG/react-native/index.js" --bundle --minify --format=esm --log-level=warning --outfile="$RN_BUNDLE"
  rn_gz=$(gz "$RN_BUNDLE")
  printf '\nReact Native entry (esbuild, minified; consult-core as JavaScript): %d B gz, ratchet %d B\n' "$rn_gz" "$RN_RATCHET"
  if ((rn_gz > RN_RATCHET)); then
    printf 'OVER BUDGET: the React Native entry is %d B gz > %d B\n' "$rn_gz" "$RN_RATCHET"
    exit 1
  fi
fi

OVER=0
if ((slim_gz > BUDGET)); then
  printf '\nOVER BUDGET: consult-client/slim ships %d B gz > %d B (by %d B)\n' "$slim_gz" "$BUDGET" $((slim_gz - BUDGET))
  OVER=1
fi
if ((main_gz > MAIN_BUDGET)); then
  printf '\nOVER BUDGET: consult-client ships %d B gz > %d B (by %d B)\n' "$main_gz" "$MAIN_BUDGET" $((main_gz - MAIN_BUDGET))
  OVER=1
fi
((OVER == 0)) || exit 1
printf '\nwithin budget: consult-client/slim %d B gz <= %d B (%d B to spare); consult-client %d B <= %d B\n' \
  "$slim_gz" "$BUDGET" $((BUDGET - slim_gz)) "$main_gz" "$MAIN_BUDGET"
if ((main_gz > TARGET)); then
  printf 'consult-client (with the video session) is over the 30 KiB target by %d B (%.1f KiB)\n' $((main_gz - TARGET)) "$(awk "BEGIN{print ($main_gz-$TARGET)/1024}")"
fi
