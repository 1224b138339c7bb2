#!/usr/bin/env bash
# The demo: builds consult-stub (release) and serves it on http://127.0.0.1:8086.
# Usage: scripts/demo.sh   (Ctrl-C stops it; extra arguments go to consult-stub)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

cargo build --release --locked -p consult-stub
BASE="http://127.0.0.1:${CONSULT_PORT:-8086}"
cat <<HELP

consult-stub on $BASE — try it with curl:

  # mint a token that expired a minute ago (dev endpoint)
  TOKEN=\$(curl -s -X POST $BASE/api/dev/token -H 'content-type: application/json' \\
      -d '{"user_id":"patient-1","name":"Pat","role":"PATIENT","ttl_secs":-60}' | sed 's/.*"access_token":"\\([^"]*\\)".*/\\1/')

  # the seed's refresh call: an expired token gets a new one
  curl -X POST $BASE/api/video/auth/refresh-token -H "Authorization: Bearer \$TOKEN"

  # a session, read with the (still lenient) token; repeat with If-None-Match for a 304
  curl -s -X POST $BASE/api/dev/sessions -H 'content-type: application/json' -d '{"session_id":"demo"}'
  curl -i $BASE/api/video/sessions/demo -H "Authorization: Bearer \$TOKEN"

HELP
exec "$ROOT/target/release/consult-stub" --bind 127.0.0.1 --port "${CONSULT_PORT:-8086}" "$@"
