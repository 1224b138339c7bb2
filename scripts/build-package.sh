#!/usr/bin/env bash
# Builds consult-client's npm package, offline: ONE package, target/pkg (assemble-package.sh),
# the JavaScript driver crates/consult-client/js/ (+ hand-written .d.ts) over consult-core's
# machines compiled to wasm (consult_client_bg.wasm, staged in target/pkg-web), plus the React
# Native build (build-react-native.sh: the same core through wasm2js, target/pkg-react-native).
# The wasm boundary is hand-written (src/js/abi.rs and js/consult_core.js), so the wasm is a plain
# `cargo build` of consult-client without its Rust API (`--no-default-features --features
# js,small-alloc`): no wasm-bindgen, no import; the build fails if the module imports anything.
# wasm-opt must be npm binaryen 132 (tests/node_modules/.bin, put first on PATH here): Debian's
# binaryen 108 miscompiles what rustc 1.95 emits.
# The wasm comes from scripts/build-core-wasm.sh (std rebuilt, `panic = immediate-abort`, in
# target/wasm-pkg), as the React Native build's does (with the MVP target).
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
WASM_IN="$(bash "$ROOT/scripts/build-core-wasm.sh" "$ROOT/target/wasm-pkg")"

out="target/pkg-web"
rm -rf "$out"
mkdir -p "$out"
# -Oz until nothing changes (--converge: ~110 B gz); no custom section ships: names, `producers`
# and `target_features` tell tools how the module was built, no engine reads them (~150 B gz).
# wasm-opt takes the features to allow from the `target_features` section before dropping it.
"$WASM_OPT" -Oz --converge --strip-debug --strip-producers --strip-target-features "$WASM_IN" -o "$out/consult_client_bg.wasm"
node - "$out/consult_client_bg.wasm" <<'JS'
// The boundary's contract (src/js/abi.rs): nothing imported, the exports consult_core.js binds.
const [path] = process.argv.slice(2);
const module = new WebAssembly.Module(require("node:fs").readFileSync(path));
const imports = WebAssembly.Module.imports(module);
if (imports.length > 0) {
  console.error("[build-package] error: the wasm imports " + imports.map((i) => i.module + "." + i.name).join(", ") + ": the package's core must import nothing (is the Rust API compiled in?)");
  process.exit(1);
}
const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
const glue = require("node:fs").readFileSync("crates/consult-client/js/consult_core.js", "utf8");
const missing = [...new Set(glue.match(/\bcore\.(\w+)/g).map((m) => m.slice(5)))].filter((name) => !exported.has(name));
if (missing.length > 0) {
  console.error("[build-package] error: js/consult_core.js calls exports the wasm lacks: " + missing.join(", "));
  process.exit(1);
}
JS

# THE package (target/pkg): the driver and the wasm behind an `exports` map.
if [[ -f "$ROOT/scripts/build-react-native.sh" ]]; then
  bash "$ROOT/scripts/build-react-native.sh"
fi
bash "$ROOT/scripts/assemble-package.sh"
log "done: target/pkg"
