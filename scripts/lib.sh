# Shared by the scripts: sourced, never run. Sets ROOT (the repository), puts cargo's and the
# pinned npm tools (tests/node_modules/.bin: binaryen, esbuild, tsc, …) first on PATH, and
# defines log and die, which prefix each line with the script's name.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/tests/node_modules/.bin:$HOME/.cargo/bin:$PATH"
SCRIPT_NAME="$(basename "${BASH_SOURCE[1]:-$0}" .sh)"
log() { printf '[%s] %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$SCRIPT_NAME" "$*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }
