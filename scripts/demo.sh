#!/usr/bin/env bash
# The demo: installs what is missing, builds the consultation screen (trunk, release) and
# consult-stub (release), and serves both on http://127.0.0.1:8086 — one process, one URL.
# Usage: scripts/demo.sh   (Ctrl-C stops it; extra arguments go to consult-stub)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh
bash scripts/build-web.sh
cargo build --release --locked -p consult-stub
PORT="${CONSULT_PORT:-8086}"
cat <<HELP

consult demo: open http://127.0.0.1:$PORT/
  Sign in with a 20 s or 60 s token to watch it refresh itself while the room stays joined;
  use "Refresh outage", "End the session" and "Revoke" to watch the client recover or end cleanly.
  The API also answers curl, e.g. the seed's refresh call:
    curl -X POST http://localhost:$PORT/api/video/auth/refresh-token -H "Authorization: Bearer <EXPIRED_TOKEN>"

HELP
exec "$ROOT/target/release/consult-stub" --dev --bind 127.0.0.1 --port "$PORT" --static-dir "$ROOT/dist" "$@"
