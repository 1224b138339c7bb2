#!/usr/bin/env bash
# Replaces what lies between two marker lines of a Markdown file with the contents of a file;
# appends the markers at the end first when the file lacks them. Used by the bench scripts to
# rewrite their generated section of BENCHMARKS.md and leave the rest alone.
#
# Usage: scripts/replace-bench-section.sh FILE.md BEGIN_MARK END_MARK SECTION_FILE
set -euo pipefail

[[ $# -eq 4 ]] || { echo "usage: $0 FILE.md BEGIN_MARK END_MARK SECTION_FILE" >&2; exit 2; }
out_md="$1"
begin="$2"
end="$3"
section="$4"

if ! grep -qF "$begin" "$out_md" || ! grep -qF "$end" "$out_md"; then
  printf '\n%s\n%s\n' "$begin" "$end" >>"$out_md"
fi
rewritten="$(mktemp)"
trap 'rm -f "$rewritten"' EXIT
awk -v begin="$begin" -v end="$end" -v section="$section" '
  $0 == begin { print; while ((getline line < section) > 0) print line; skip = 1; next }
  $0 == end { skip = 0 }
  !skip { print }
' "$out_md" >"$rewritten"
cat "$rewritten" >"$out_md"
