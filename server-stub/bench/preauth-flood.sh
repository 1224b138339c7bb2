#!/usr/bin/env bash
# The Engine.IO polling-handshake flood of issue 20 (N2), against the release consult-stub on
# 127.0.0.1: wrk -t1 -c8 -d3s of `GET /socket.io/?EIO=4&transport=polling` (8 keep-alive
# connections, no CONNECT ever sent), the server's RSS before, right after and 6 s later.
#
#   server-stub/bench/preauth-flood.sh [EXTRA_STUB_FLAGS...]
#
# With the default caps, then with them lifted (what the stub did before issue 20):
#   server-stub/bench/preauth-flood.sh
#   server-stub/bench/preauth-flood.sh --max-unauthenticated-sessions 10000000 \
#     --max-unauthenticated-sessions-per-client 10000000
# Needs wrk (Debian) and `cargo build --release -p consult-stub`. The server is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${CONSULT_STUB_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/consult-stub}"
command -v wrk >/dev/null || { echo "preauth-flood: wrk missing (apt-get install wrk)" >&2; exit 1; }
OUT="$(mktemp)"
CONSULT_JWT_SECRET="flood-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" RUST_LOG=warn \
  "$BIN" --bind 127.0.0.1 --port 0 "$@" >"$OUT" 2>/dev/null &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 50); do grep -q listening "$OUT" && break; sleep 0.1; done
URL="$(sed -n 's/.*listening on //p' "$OUT")"
rss() { awk '/VmRSS/{print $2}' "/proc/$PID/status"; }
BEFORE="$(rss)"
wrk -t1 -c8 -d3s "$URL/socket.io/?EIO=4&transport=polling" | grep -E "requests in|Non-2xx"
AFTER="$(rss)"
sleep 6
LATER="$(rss)"
echo "RSS before ${BEFORE} KiB, right after ${AFTER} KiB, 6 s later ${LATER} KiB"
