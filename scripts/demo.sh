#!/usr/bin/env bash
# The demo: installs what is missing, builds the consultation screen (trunk, release) and
# consult-stub (release), and serves both on http://127.0.0.1:8086 — one process, one URL.
# Usage: scripts/demo.sh   (Ctrl-C stops it; extra arguments go to consult-stub)
#
#        scripts/demo.sh --cluster
#   The same screen and URL, served by two consult-stub instances sharing one redis-server
#   (--redis), behind consult-proxy (round robin over TCP, WebSockets included). Type "a" or "b"
#   and Enter to kill that instance (it is started again a second later) and watch the
#   consultation carry on: polls and the socket move to the other instance, nobody is signed
#   out, the room is joined again. Extra arguments go to both instances.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

CLUSTER=0
if [[ "${1:-}" == "--cluster" ]]; then
  CLUSTER=1
  shift
fi

bash scripts/setup.sh
bash scripts/build-web.sh
cargo build --release --locked -p consult-stub
PORT="${CONSULT_PORT:-8086}"

if [[ $CLUSTER -eq 1 ]]; then
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
  command -v redis-server >/dev/null || { echo "demo: redis-server missing (scripts/setup.sh installs it)" >&2; exit 1; }
  TMP="$(mktemp -d)"
  PIDS=()
  cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for name in a b; do
      [[ -f "$TMP/$name.pid" ]] && kill "$(cat "$TMP/$name.pid")" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    rm -rf "$TMP"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  # One secret for both instances, in the environment only (never argv).
  CONSULT_JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  export CONSULT_JWT_SECRET
  REDIS_PORT="${CONSULT_REDIS_PORT:-6390}"
  PORT_A="${CONSULT_PORT_A:-8087}"
  PORT_B="${CONSULT_PORT_B:-8088}"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly yes --maxmemory-policy noeviction --dir "$TMP" \
    >"$TMP/redis.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 50); do
    [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && break
    sleep 0.1
  done
  instance() { # instance NAME PORT [ARGS...]: runs it, and again a second after it dies
    local name="$1" port="$2"
    shift 2
    while true; do
      "$BIN/consult-stub" --dev --bind 127.0.0.1 --port "$port" --static-dir "$ROOT/dist" \
        --redis "redis://127.0.0.1:$REDIS_PORT" "$@" \
        >>"$TMP/$name.log" 2>&1 &
      echo $! >"$TMP/$name.pid"
      wait "$(cat "$TMP/$name.pid")" || true
      echo "[demo] instance $name stopped; starting it again" >&2
      sleep 1
    done
  }
  instance a "$PORT_A" "$@" &
  PIDS+=($!)
  instance b "$PORT_B" "$@" &
  PIDS+=($!)
  "$BIN/consult-proxy" --listen "127.0.0.1:$PORT" --backend "127.0.0.1:$PORT_A" \
    --backend "127.0.0.1:$PORT_B" >"$TMP/proxy.log" 2>&1 &
  PIDS+=($!)
  sleep 1
  cat <<HELP

consult cluster demo: open http://127.0.0.1:$PORT/
  consult-proxy on :$PORT -> instance a on :$PORT_A, instance b on :$PORT_B, both on
  redis-server :$REDIS_PORT (sign-ins, revocations, sessions and Socket.IO rooms are shared).
  Type a or b and Enter to kill that instance (it starts again a second later); Ctrl-C stops all.
  Logs: $TMP/{a,b,proxy,redis}.log

HELP
  while read -r choice; do
    case "$choice" in
      a | b)
        if [[ -f "$TMP/$choice.pid" ]]; then
          kill -9 "$(cat "$TMP/$choice.pid")" 2>/dev/null || true
          echo "[demo] killed instance $choice (SIGKILL)" >&2
        fi
        ;;
      *) echo "[demo] type a or b (Enter), or Ctrl-C to stop" >&2 ;;
    esac
  done
  exit 0
fi
cat <<HELP

consult demo: open http://127.0.0.1:$PORT/
  Sign in with a 20 s or 60 s token to watch it refresh itself while the room stays joined;
  use "Refresh outage", "End the session" and "Revoke" to watch the client recover or end cleanly.
  The API also answers curl, e.g. the seed's refresh call:
    curl -X POST http://localhost:$PORT/api/video/auth/refresh-token -H "Authorization: Bearer <EXPIRED_TOKEN>"

HELP
exec "$ROOT/target/release/consult-stub" --dev --bind 127.0.0.1 --port "$PORT" --static-dir "$ROOT/dist" "$@"
