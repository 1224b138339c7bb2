#!/usr/bin/env bash
# Mutation testing of consult-core's machines with cargo-mutants (not in CI: one build and one
# test run per mutant, hours on 2 cores). Mutates the token session, the poll machine and the
# socket connection, and runs consult-core's own tests (unit, doc and the simulator) against
# each mutant. Results go to target/mutants/ (caught.txt, missed.txt, timeout.txt, unviable.txt);
# BENCHMARKS.md states caught / missed / timed out with the date and the command.
#
# Usage: scripts/mutants.sh [extra cargo-mutants arguments…]
#   e.g. scripts/mutants.sh --file crates/consult-core/src/session/flight.rs
#   MUTANTS_JOBS   parallel jobs (default 1: the machine has 2 cores)
# Needs cargo-mutants (installed on first use: `cargo install --locked cargo-mutants`, ~27.1).
# The simulator runs 2,000 schedules per mutant (SIM_SCHEDULES) to keep each run short; the
# named mutations of issue 18 are checked with the full 10,000 by scripts/sim-mutations.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v cargo-mutants >/dev/null 2>&1; then
  cargo install --locked cargo-mutants
fi

export SIM_SCHEDULES="${SIM_SCHEDULES:-2000}"
exec cargo mutants \
  --package consult-core \
  --file 'crates/consult-core/src/session/*.rs' \
  --file crates/consult-core/src/poll.rs \
  --file crates/consult-core/src/poll_machine.rs \
  --file 'crates/consult-core/src/connection*.rs' \
  --file 'crates/consult-core/src/connection/*.rs' \
  --exclude 'crates/consult-core/src/session/tests.rs' \
  --exclude 'crates/consult-core/src/connection/tests.rs' \
  --jobs "${MUTANTS_JOBS:-1}" \
  --timeout-multiplier 3 \
  --output target \
  "$@"
