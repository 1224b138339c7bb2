#!/usr/bin/env bash
# Builds consult-client's npm package, offline: ONE package, target/pkg (assemble-package.sh),
# the JavaScript driver crates/consult-client/js/ (+ hand-written .d.ts) over consult-core's
# machines compiled to wasm (consult_client_bg.wasm, staged in target/pkg-web), plus the React
# Native build (build-react-native.sh: the same core through wasm2js, target/pkg-react-native).
# The wasm boundary is hand-written (src/js/abi.rs and js/consult_core.js), so the wasm is a plain
# `cargo build` of consult-client without its Rust API (`--no-default-features --features
# js-video,small-alloc`): no wasm-bindgen, no import; the build fails if the module imports anything.
# wasm-opt must be npm binaryen 132 (tests/node_modules/.bin, put first on PATH here): Debian's
# binaryen 108 miscompiles what rustc 1.95 emits.
# The wasm comes from scripts/build-core-wasm.sh (stable Rust, the crate `no_std`, in
# target/wasm-pkg), as the React Native build's does (for `wasm32v1-none`): twice, the main
# entry's core (consult_client_bg.wasm) and consult-client/slim's, without the socket machine
# (consult_client_slim_bg.wasm).
# Idempotent: cargo rebuilds only what changed; each run replaces target/pkg-web and target/pkg.
#
# Usage: scripts/build-package.sh   (expects scripts/setup.sh done)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/tests/node_modules/.bin:$HOME/.cargo/bin:$PATH"
WASM_OPT_VERSION="132"

die() { printf '[build-package] error: %s\n' "$*" >&2; exit 1; }
log() { printf '[build-package] %s\n' "$*" >&2; }

WASM_OPT="$(command -v wasm-opt || true)"
[[ -n "$WASM_OPT" ]] || die "wasm-opt not on PATH: run scripts/setup.sh (installs npm binaryen $WASM_OPT_VERSION into tests/node_modules)"
WASM_OPT_SAYS="$("$WASM_OPT" --version 2>&1 || true)"
if ! grep -Eq "^wasm-opt version $WASM_OPT_VERSION( |$)" <<<"$WASM_OPT_SAYS"; then
  die "wasm-opt at $WASM_OPT says '$WASM_OPT_SAYS'; version $WASM_OPT_VERSION (npm binaryen@$WASM_OPT_VERSION.0.0) is required — Debian's binaryen corrupts the output. Run scripts/setup.sh."
fi
log "wasm-opt: $WASM_OPT ($WASM_OPT_SAYS)"
out="target/pkg-web"
rm -rf "$out"
mkdir -p "$out"

# Builds the core with consult-client's features $1 and writes it, optimised, to $2.
# -Oz until nothing changes (--converge: ~110 B gz); no custom section ships: names, `producers`
# and `target_features` tell tools how the module was built, no engine reads them (~150 B gz).
# wasm-opt takes the features to allow from the `target_features` section before dropping it.
build_core() {
  local features="$1" wasm="$2" built
  built="$(CORE_FEATURES="$features" bash "$ROOT/scripts/build-core-wasm.sh" "$ROOT/target/wasm-pkg")"
  "$WASM_OPT" -Oz --converge --strip-debug --strip-producers --strip-target-features "$built" -o "$wasm"
}
# The main entry's core (every machine), and consult-client/slim's (no socket machine).
build_core js-video,small-alloc "$out/consult_client_bg.wasm"
build_core js,small-alloc "$out/consult_client_slim_bg.wasm"

node - "$out/consult_client_bg.wasm" "$out/consult_client_slim_bg.wasm" <<'JS'
// The boundary's contract (src/js/abi.rs): nothing imported, the exports consult_core.js binds
// (the slim core: all but the socket machine's, which consult_core.js calls on `videoCore`).
const fs = require("node:fs");
const [full, slim] = process.argv.slice(2);
const glue = fs.readFileSync("crates/consult-client/js/consult_core.js", "utf8");
const called = (prefix) => [...new Set((glue.match(new RegExp(`\\b${prefix}\\.(\\w+)`, "g")) ?? []).map((m) => m.slice(prefix.length + 1)))];
for (const [path, needed] of [[full, [...called("core"), ...called("videoCore")]], [slim, called("core")]]) {
  const module = new WebAssembly.Module(fs.readFileSync(path));
  const imports = WebAssembly.Module.imports(module);
  if (imports.length > 0) {
    console.error(`[build-package] error: ${path} imports ` + imports.map((i) => i.module + "." + i.name).join(", ") + ": the package's core must import nothing (is the Rust API compiled in?)");
    process.exit(1);
  }
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = needed.filter((name) => !exported.has(name));
  if (needed.length === 0 || missing.length > 0) {
    console.error(`[build-package] error: js/consult_core.js calls exports ${path} lacks: ` + missing.join(", "));
    process.exit(1);
  }
}
JS

# THE package (target/pkg): the driver and the wasm behind an `exports` map.
if [[ -f "$ROOT/scripts/build-react-native.sh" ]]; then
  bash "$ROOT/scripts/build-react-native.sh"
fi
bash "$ROOT/scripts/assemble-package.sh"
log "done: target/pkg"
