#!/usr/bin/env bash
# The mutations issue 18 names, each applied to consult-core in turn: the deterministic
# simulator (cargo test -p consult-core --test simulator) must catch every one — a failing
# seed, a livelock reported with its seed, or a failing regression/strict test — never a hang
# and never a pass. Not part of scripts/test.sh (a build and a full simulator run per mutation,
# about a minute each on 2 cores). Each mutation is reverted before the next (git checkout of
# the one file), so run it on a clean work tree.
#
# Usage: scripts/sim-mutations.sh [NAME…]     (default: all)
# Prints one line per mutation: CAUGHT (and how) or MISSED. Exits 1 if one is missed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CORE=crates/consult-core/src
if ! git diff --quiet -- "$CORE"; then
  echo "consult-core/src has uncommitted changes: commit or stash them first" >&2
  exit 2
fi

# name | file | sed expression (applied once; the script checks that it changed the file)
MUTATIONS=(
  "is_due-strict|policy.rs|s/server_now(local_now_ms) >= self.refresh_at_ms(token)/server_now(local_now_ms) > self.refresh_at_ms(token)/"
  "skew-ignored|policy.rs|0,/ClockSkew { offset_ms: skew_ms }.server_now(local_now_ms) >=/s//ClockSkew { offset_ms: 0 }.server_now(local_now_ms) >=/"
  "no-broadcast-after-refresh|session/flight.rs|s/self.announce(Some(sent.clone()));/let _ = \&sent;/"
  "no-request-deadline|session/flight.rs|s/deadline: now.mono_ms.saturating_add(timeout),/deadline: i64::MAX,/"
  "no-backoff|session/flight.rs|s/.max(RETRY_FLOOR_MS);/.min(0);/"
  "backoff-without-jitter|session/flight.rs|s/.next_delay_ms(self.rng.next_f64(), retry_after_ms)/.next_delay_ms(1.0, retry_after_ms)/"
  "no-storage-deadline|session/storage.rs|s/now.saturating_add(STORAGE_TIMEOUT_MS)/i64::MAX/"
  "any-peer-sign-out-signs-out|session/mod.rs|s/            Some(text) if text != current.text => self.check_store(None),/            Some(_) => self.drop_signed_out(),/"
  "expired-token-after-failure|session/mod.rs|s/fresh || (self.flight.has_failed() \&\& !refused \&\& !self.is_expired(current, now))/fresh || (self.flight.has_failed() \&\& !refused)/"
  "fail-fast|session/mod.rs|s/waiter.failures_seen > self.config.refresh_retries/waiter.failures_seen > 0/"
  "force-refresh-restarts-flight|session/mod.rs|s/                    let want = Want::Replace(current.text.clone());/                    let want = Want::Replace(current.text.clone()); self.abandon_flight();/"
)

wanted=("$@")
missed=0
for entry in "${MUTATIONS[@]}"; do
  IFS='|' read -r name file expr <<<"$entry"
  if ((${#wanted[@]})) && [[ ! " ${wanted[*]} " == *" $name "* ]]; then continue; fi
  path="$CORE/$file"
  cp "$path" "$path.orig"
  sed -i "$expr" "$path"
  if cmp -s "$path" "$path.orig"; then
    echo "$name: the mutation did not apply (the code moved): fix this script" >&2
    mv "$path.orig" "$path"
    missed=1
    continue
  fi
  rm "$path.orig"
  log="$(mktemp)"
  status=0
  timeout 600 cargo test -q -p consult-core --test simulator -- --nocapture >"$log" 2>&1 || status=$?
  git checkout -q -- "$path"
  if ((status == 124)); then
    echo "$name: MISSED (the simulator hung: no seed reported)"
    missed=1
  elif ((status == 0)); then
    echo "$name: MISSED (every test passed)"
    missed=1
  elif grep -q "^error\[" "$log"; then
    echo "$name: did not compile (fix this script)"
    missed=1
  else
    how="$(grep -m1 -oE "schedule [0-9]+ broke an invariant|failing schedule\(s\) \(known open: [0-9]+\)|livelock[^(]*|panicked at [^ ]+" "$log" || true)"
    seed="$(grep -m1 -oE "SIM_SEED=[0-9]+|SIM_STRICT_SEED=[0-9]+" "$log" || true)"
    first="$(grep -m1 -E "^  t=[0-9]+ ms: " "$log" | cut -c1-140 || true)"
    echo "$name: CAUGHT — ${how:-a test failed} ${seed} |${first}"
  fi
  rm -f "$log"
done
exit "$missed"
