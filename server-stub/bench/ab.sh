#!/usr/bin/env bash
# A/B of two consult-stub binaries on a busy machine: rounds in which GET session runs against
# OLD then NEW, then nginx (one worker) serves the same bytes as a static file, then the refresh
# mint path runs against OLD then NEW (each request a token never refreshed before, from a pool
# minted just before through /api/dev/token). Alternating in the same minutes is what makes the
# comparison hold when other work shares the cores; one line per measurement on stdout.
#
#   server-stub/bench/ab.sh OLD_BIN NEW_BIN [ROUNDS=3]    (knobs: AB_DURATION 6s, AB_CONNS 64)
#
# Needs wrk, nginx, curl, jq (Debian; scripts/bench.sh installs them). 127.0.0.1 only; every
# process it starts is stopped on exit.
set -euo pipefail

OLD="${1:?old binary}"
NEW="${2:?new binary}"
ROUNDS="${3:-3}"
DURATION="${AB_DURATION:-6s}"
CONNS="${AB_CONNS:-64}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/tests/bench"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
TMP="$(mktemp -d)"
chmod 755 "$TMP"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

figures() { awk '/^Requests\/sec:/ {rps = $2} $1 == "99%" {p99 = $2} END {printf "%.0f req/s p99 %s", rps, p99}'; }

start_stub() { # start_stub BIN: sets BASE and STUB_PID
  : >"$TMP/out"
  CONSULT_JWT_SECRET="ab-secret-$$-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
    RUST_LOG=warn "$1" --dev --bind 127.0.0.1 --port 0 --max-connections 4096 \
    --max-connections-per-client 4096 --max-unauthenticated-sessions-per-client 1024 \
    --reuse-window 10m >"$TMP/out" 2>"$TMP/err" &
  STUB_PID=$!
  PIDS+=("$STUB_PID")
  local port="" _
  for _ in $(seq 1 100); do
    port="$(sed -n 's|^consult-stub listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$TMP/out")"
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  [[ -n "$port" ]] || { cat "$TMP/err" >&2; exit 1; }
  BASE="http://127.0.0.1:$port"
}
stop_stub() { kill "$STUB_PID" 2>/dev/null || true; wait "$STUB_PID" 2>/dev/null || true; }
api() { curl -sS --fail-with-body --max-time 10 -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} "$BASE$2"; }

get_session() { # get_session BIN: GET session figures
  start_stub "$1"
  local token
  token="$(api POST /api/dev/token '{"user_id":"ab-user","ttl_secs":14400}' | jq -r .access_token)"
  api POST /api/dev/sessions '{"session_id":"ab-session","room_id":"ab-room","participants":["ab-user"]}' >/dev/null
  curl -sS --max-time 10 -H "Authorization: Bearer $token" "$BASE/api/video/sessions/ab-session" >"$TMP/session.json"
  wrk -t1 -c"$CONNS" -d"$DURATION" --latency -H "Authorization: Bearer $token" \
    "$BASE/api/video/sessions/ab-session" | figures
  stop_stub
}

mint() { # mint BIN: refresh mint path figures
  start_stub "$1"
  rm -f "$TMP"/pool.txt*
  WRK_TOKEN_FILE="$TMP/pool.txt" wrk -t1 -c"$CONNS" -d6s -s "$BENCH/mint-pool.lua" "$BASE/api/dev/token" >/dev/null
  cat "$TMP"/pool.txt.* >"$TMP/pool.txt"
  WRK_TOKEN_FILE="$TMP/pool.txt" WRK_THREADS=1 wrk -t1 -c"$CONNS" -d5s --latency \
    -s "$BENCH/refresh-pool.lua" "$BASE/api/video/auth/refresh-token" >"$TMP/mint.txt"
  figures <"$TMP/mint.txt"
  printf ' (%s)' "$(sed -n 's/^POOL \(fresh_requests=[0-9]*\) .*/\1/p' "$TMP/mint.txt")"
  stop_stub
}

nginx_ceiling() { # the same bytes as a static file, nginx with one worker
  mkdir -p "$TMP/www" "$TMP/nginx"
  chmod 755 "$TMP/www"
  cp "$TMP/session.json" "$TMP/www/session.json"
  chmod 644 "$TMP/www/session.json"
  local port=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768–60999)
  cat >"$TMP/nginx/nginx.conf" <<NGINX_CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx; fastcgi_temp_path $TMP/nginx;
  uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
  server { listen 127.0.0.1:$port; location = /session.json { root $TMP/www; default_type application/json; } }
}
NGINX_CONF
  "$NGINX" -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
  local pid=$!
  PIDS+=("$pid")
  sleep 0.5
  wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$port/session.json" | figures
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round, load average $(cut -d' ' -f1 /proc/loadavg)"
  echo "  GET session old: $(get_session "$OLD")"
  echo "  GET session new: $(get_session "$NEW")"
  echo "  nginx, same bytes: $(nginx_ceiling)"
  echo "  refresh mint old: $(mint "$OLD")"
  echo "  refresh mint new: $(mint "$NEW")"
done
