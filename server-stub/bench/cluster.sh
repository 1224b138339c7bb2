#!/usr/bin/env bash
# consult-stub on Redis vs in memory, in one run on this machine (127.0.0.1 only): GET session
# and refresh (repeat and mint paths) with wrk against
#   mem    one in-memory instance,
#   redis1 one instance on Redis (the cost of Redis per request),
#   redis2 two instances on the same Redis, one wrk each at the same time (req/s summed),
#   proxy  the same two instances behind consult-proxy (one wrk).
# Then the #[ignore]d measurements of tests/cluster_bench.rs: 2,000 sockets over two instances
# receiving one session_status, and Redis bytes per live sign-in. Prints Markdown.
#
#   server-stub/bench/cluster.sh        (knobs: WRK_CONNS 64, WRK_DURATION 10s, FANOUT_SOCKETS 2000,
#                                        CLUSTER_BENCH_TESTS 1: 0 skips the tests/cluster_bench.rs part,
#                                        which needs a release build of the test harness)
#
# Needs wrk, redis-server, redis-cli, jq, curl (Debian). Every process it starts is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/tests/bench"
WRK_CONNS="${WRK_CONNS:-64}"
WRK_DURATION="${WRK_DURATION:-10s}"
POOL_MINT_DURATION="${POOL_MINT_DURATION:-6s}"
POOL_DURATION="${POOL_DURATION:-4s}"
export PATH="$HOME/.cargo/bin:$PATH"
log() { printf '[cluster-bench] %s\n' "$*" >&2; }

for tool in wrk redis-server redis-cli jq curl; do
  command -v "$tool" >/dev/null || { log "error: $tool missing"; exit 1; }
done
log "cargo build --release -p consult-stub"
(cd "$ROOT" && cargo build --release -q -p consult-stub >&2)
BIN_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/release"

TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
export CONSULT_JWT_SECRET="cluster-bench-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
REDIS_PORT="$(free_port)"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly yes --maxmemory-policy noeviction --dir "$TMP" \
  >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 50); do [[ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] && break; sleep 0.1; done

start() { # start NAME [FLAGS...] -> sets URL_<NAME>
  local name="$1"
  shift
  RUST_LOG=warn "$BIN_DIR/consult-stub" --dev --bind 127.0.0.1 --port 0 --max-connections 4096 \
    --max-connections-per-client 4096 --max-unauthenticated-sessions-per-client 1024 \
    --reuse-window 10m "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  local port="" _
  for _ in $(seq 1 100); do
    port="$(sed -n 's|^consult-stub listening on http://127\.0\.0\.1:\([0-9]*\)$|\1|p' "$TMP/$name.out")"
    [[ -n "$port" ]] && break
    sleep 0.1
  done
  [[ -n "$port" ]] || { log "error: $name did not start"; cat "$TMP/$name.err" >&2; exit 1; }
  printf -v "URL_$name" 'http://127.0.0.1:%s' "$port"
}
start mem
start r1 --redis "redis://127.0.0.1:$REDIS_PORT"
start r2 --redis "redis://127.0.0.1:$REDIS_PORT"
PROXY_PORT="$(free_port)"
"$BIN_DIR/consult-proxy" --listen "127.0.0.1:$PROXY_PORT" \
  --backend "${URL_r1#http://}" --backend "${URL_r2#http://}" >"$TMP/proxy.out" 2>&1 &
PIDS+=($!)
URL_proxy="http://127.0.0.1:$PROXY_PORT"
sleep 0.5

api() { curl -sS --fail-with-body --max-time 10 -X "$1" -H 'content-type: application/json' ${3:+--data "$3"} "$2"; }
for base in "$URL_mem" "$URL_r1"; do
  api POST "$base/api/dev/sessions" '{"session_id":"bench-session","participants":["bench-user"]}' >/dev/null
done
TOKEN_mem="$(api POST "$URL_mem/api/dev/token" '{"user_id":"bench-user","ttl_secs":14400}' | jq -r .access_token)"
TOKEN_cluster="$(api POST "$URL_r1/api/dev/token" '{"user_id":"bench-user","ttl_secs":14400}' | jq -r .access_token)"

to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; printf "%.2f", n }'
}
declare -A RPS P99 ERRS
parse() { # parse KEY FILE...: sums req/s and errors over files, keeps the worst p99
  local key="$1" rps=0 p99=0 errs=0 file r p e
  shift
  for file in "$@"; do
    r="$(awk '/^Requests\/sec:/ {print $2}' "$file")"
    p="$(to_ms "$(awk '$1 == "99%" {print $2}' "$file")")"
    e="$(awk -F': *' '/Non-2xx or 3xx responses/ {print $2}' "$file")"
    rps="$(awk -v a="$rps" -v b="$r" 'BEGIN {printf "%.0f", a + b}')"
    p99="$(awk -v a="$p99" -v b="$p" 'BEGIN {print (b > a ? b : a)}')"
    errs=$((errs + ${e:-0}))
  done
  RPS[$key]="$rps"; P99[$key]="$p99"; ERRS[$key]="$errs"
}
wrk_one() { # wrk_one OUT CONNS DURATION ARGS...
  local out="$1" conns="$2" duration="$3"
  shift 3
  wrk -t1 -c"$conns" -d"$duration" --timeout 5s --latency "$@" >"$out"
}

run_get() { # run_get KEY URL... (one wrk per URL, at the same time; connections split)
  local key="$1" n i=0 token
  shift
  n=$#
  [[ "$key" == mem ]] && token="$TOKEN_mem" || token="$TOKEN_cluster"
  for url in "$@"; do
    wrk_one "$TMP/get-$key-$i.txt" $((WRK_CONNS / n)) "$WRK_DURATION" \
      -H "Authorization: Bearer $token" "$url/api/video/sessions/bench-session" &
    WRK_PIDS+=($!)
    i=$((i + 1))
  done
  wait_wrk
  parse "get_$key" "$TMP"/get-"$key"-*.txt
  log "GET $key: ${RPS[get_$key]} req/s, p99 ${P99[get_$key]} ms, errors ${ERRS[get_$key]}"
}
WRK_PIDS=()
wait_wrk() { # waits for the wrk runs started since the last call
  local pid
  for pid in "${WRK_PIDS[@]}"; do wait "$pid" || true; done
  WRK_PIDS=()
}

run_repeat() { # run_repeat KEY URL...: refresh of one token again and again (repeat path)
  local key="$1" n i=0 token
  shift
  n=$#
  local mint_at="$1"
  token="$(api POST "$mint_at/api/dev/token" '{"user_id":"bench-refresher","ttl_secs":14400}' | jq -r .access_token)"
  for url in "$@"; do
    wrk_one "$TMP/rep-$key-$i.txt" $((WRK_CONNS / n)) "$WRK_DURATION" -s "$BENCH/post.lua" \
      -H "Authorization: Bearer $token" "$url/api/video/auth/refresh-token" &
    WRK_PIDS+=($!)
    i=$((i + 1))
  done
  wait_wrk
  parse "rep_$key" "$TMP"/rep-"$key"-*.txt
  log "refresh repeat $key: ${RPS[rep_$key]} req/s, p99 ${P99[rep_$key]} ms, errors ${ERRS[rep_$key]}"
}

run_mint() { # run_mint KEY URL...: refresh of a fresh token each time (mint path)
  local key="$1" n i=0
  shift
  n=$#
  for url in "$@"; do
    WRK_TOKEN_FILE="$TMP/pool-$key-$i" wrk -t1 -c16 -d"$POOL_MINT_DURATION" -s "$BENCH/mint-pool.lua" \
      "$url/api/dev/token" >/dev/null
    cat "$TMP/pool-$key-$i".* >"$TMP/pool-$key-$i.txt"
    i=$((i + 1))
  done
  i=0
  for url in "$@"; do
    WRK_TOKEN_FILE="$TMP/pool-$key-$i.txt" WRK_THREADS=1 wrk_one "$TMP/mint-$key-$i.txt" \
      $((WRK_CONNS / n)) "$POOL_DURATION" -s "$BENCH/refresh-pool.lua" "$url/api/video/auth/refresh-token" &
    WRK_PIDS+=($!)
    i=$((i + 1))
  done
  wait_wrk
  parse "mint_$key" "$TMP"/mint-"$key"-*.txt
  FRESH[$key]="$(cat "$TMP"/mint-"$key"-*.txt | sed -n 's/^POOL fresh_requests=\([0-9]*\) .*/\1/p' | paste -sd+ | bc)"
  REQS[$key]="$(awk '/requests in/ {s += $1} END {print s}' "$TMP"/mint-"$key"-*.txt)"
  log "refresh mint $key: ${RPS[mint_$key]} req/s, p99 ${P99[mint_$key]} ms (fresh ${FRESH[$key]} of ${REQS[$key]})"
}
declare -A FRESH REQS

LOAD_BEFORE="$(cut -d' ' -f1 /proc/loadavg)"
run_get mem "$URL_mem"
run_get redis1 "$URL_r1"
run_get redis2 "$URL_r1" "$URL_r2"
run_get proxy "$URL_proxy"
run_repeat mem "$URL_mem"
run_repeat redis1 "$URL_r1"
run_repeat redis2 "$URL_r1" "$URL_r2"
run_mint mem "$URL_mem"
run_mint redis1 "$URL_r1"
run_mint redis2 "$URL_r1" "$URL_r2"
LOAD_AFTER="$(cut -d' ' -f1 /proc/loadavg)"
REDIS_INFO="$(redis-cli -p "$REDIS_PORT" info commandstats | grep -E 'cmdstat_(hmget|evalsha)' | tr -d '\r' || true)"

for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
PIDS=()
: >"$TMP/cluster_bench.txt"
if [[ "${CLUSTER_BENCH_TESTS:-1}" != 0 ]]; then
  log "socket fan-out and Redis bytes per sign-in (tests/cluster_bench.rs)"
  (cd "$ROOT" && CONSULT_STUB_BIN="$BIN_DIR/consult-stub" cargo test --release -q -p consult-stub \
    --test cluster_bench -- --ignored --nocapture --test-threads 1 2>&1 || true) | tee "$TMP/cluster_bench.txt" >&2
fi
result() { sed -n "s/.*RESULT $1[= ]//p" "$TMP/cluster_bench.txt"; }

cost() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", 1e6 / b - 1e6 / a}'; }
cat <<MD
Machine: $(nproc) cores, load average $LOAD_BEFORE before and $LOAD_AFTER after (other work shares the cores).
\`wrk -t1 -c$WRK_CONNS -d$WRK_DURATION\` per row (two wrk of $((WRK_CONNS / 2)) connections at once for "two instances"; mint path $POOL_DURATION).

| req/s (p99 ms) | one instance, memory | one instance, Redis | two instances, Redis | two instances behind consult-proxy |
|---|---:|---:|---:|---:|
| GET session (200) | ${RPS[get_mem]} (${P99[get_mem]}) | ${RPS[get_redis1]} (${P99[get_redis1]}) | ${RPS[get_redis2]} (${P99[get_redis2]}) | ${RPS[get_proxy]} (${P99[get_proxy]}) |
| refresh, repeat in the window | ${RPS[rep_mem]} (${P99[rep_mem]}) | ${RPS[rep_redis1]} (${P99[rep_redis1]}) | ${RPS[rep_redis2]} (${P99[rep_redis2]}) | – |
| refresh, mint a successor | ${RPS[mint_mem]} (${P99[mint_mem]}) | ${RPS[mint_redis1]} (${P99[mint_redis1]}) | ${RPS[mint_redis2]} (${P99[mint_redis2]}) | – |

Errors (non-2xx): GET ${ERRS[get_mem]}/${ERRS[get_redis1]}/${ERRS[get_redis2]}/${ERRS[get_proxy]}, repeat ${ERRS[rep_mem]}/${ERRS[rep_redis1]}/${ERRS[rep_redis2]}, mint ${ERRS[mint_mem]}/${ERRS[mint_redis1]}/${ERRS[mint_redis2]}.
Mint path, requests that had a fresh token: ${FRESH[mem]}/${REQS[mem]}, ${FRESH[redis1]}/${REQS[redis1]}, ${FRESH[redis2]}/${REQS[redis2]}.
CPU time per request added by Redis on one instance (1/rps difference, µs): GET $(cost "${RPS[get_mem]}" "${RPS[get_redis1]}"), repeat $(cost "${RPS[rep_mem]}" "${RPS[rep_redis1]}"), mint $(cost "${RPS[mint_mem]}" "${RPS[mint_redis1]}").
Redis command stats (\`INFO commandstats\`; EVALSHA's failed calls are the first NOSCRIPT of each script, then loaded): $(echo "$REDIS_INFO" | tr '\n' ' ')

| sockets over two instances, one session_status | value |
|---|---|
| sockets | $(result fanout_sockets) |
| \`joined_room\` confirmations received | $(result fanout_joined) |
| received session_status | $(result fanout_received) |
| delivery latency | $(result fanout_latency_ms) |
| RSS per instance (KiB) | $(result fanout_rss_kib) |
| Redis | $(result fanout_redis) |

| Redis per live sign-in | bytes |
|---|---:|
| \`MEMORY USAGE consult:signin:{<digest of sid>}\` (no token is stored: a repeat signs the successor again) | $(result memory_usage_signin_hash_bytes) |
| \`used_memory\` growth per sign-in over $(result sign_ins) sign-ins, each refreshed once | $(result used_memory_growth_per_sign_in_bytes) |
MD
