#!/usr/bin/env bash
# Installs everything consult's build, demo and tests need, idempotently:
# each step checks first and skips what is already there at the right version.
# Works offline apart from the package registries (crates.io, npm, Debian).
# Each step says why its pin is what it is.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WASM_PACK_VERSION="0.15.1"


have_version() { # have_version CMD EXPECTED  -> true when `CMD --version` mentions EXPECTED
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"
}

# The wasm-bindgen version: Cargo.lock when a crate uses it, else the workspace pin.
wasm_bindgen_version() {
  local v=""
  if [[ -f "$ROOT/Cargo.lock" ]]; then
    v="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$ROOT/Cargo.lock")"
  fi
  if [[ -z "$v" ]]; then
    v="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n1)"
  fi
  printf '%s' "$v"
}


# 1. The pinned Rust toolchain (rust-toolchain.toml: channel, targets, components), from the
#    rustup dist server. Stable only: nothing in the build needs a nightly feature.
cd "$ROOT"
TOOLCHAIN="$(sed -n 's/^channel = "\(.*\)"/\1/p' "$ROOT/rust-toolchain.toml")"
[[ -n "$TOOLCHAIN" ]] || { log "error: no channel in rust-toolchain.toml" >&2; exit 1; }
if ! rustup toolchain list | grep -q "^$TOOLCHAIN-"; then
  log "installing Rust $TOOLCHAIN"
  rustup toolchain install "$TOOLCHAIN" --profile minimal
fi
for target in $(sed -n 's/^targets = \[\(.*\)\]/\1/p' "$ROOT/rust-toolchain.toml" | tr -d '",'); do
  if rustup target list --toolchain "$TOOLCHAIN" --installed | grep -qx "$target"; then
    log "Rust $TOOLCHAIN target $target: present"
  else
    log "adding Rust $TOOLCHAIN target $target"
    rustup target add --toolchain "$TOOLCHAIN" "$target"
  fi
done
for component in $(sed -n 's/^components = \[\(.*\)\]/\1/p' "$ROOT/rust-toolchain.toml" | tr -d '",'); do
  if rustup component list --toolchain "$TOOLCHAIN" --installed | grep -q "^$component"; then
    log "Rust $TOOLCHAIN component $component: present"
  else
    log "adding Rust $TOOLCHAIN component $component"
    rustup component add --toolchain "$TOOLCHAIN" "$component"
  fi
done

# 2. Chromium + chromedriver from Debian (never a downloaded browser).
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  log "chromium + chromedriver: present"
else
  log "installing chromium + chromium-driver from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium chromium-driver
fi

# 2b. redis-server from Debian: consult-stub's cluster tests start their own (loopback, free
#     port, no persistence) and `scripts/demo.sh --cluster` runs one; no service is relied on.
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  log "redis-server: present ($(redis-server --version | awk '{print $3}'))"
else
  log "installing redis-server from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q redis-server
fi

# 2c. faketime (libfaketime) from Debian: the package's fault soak runs one consult-stub instance
#     with its wall clock seconds behind the other's (LD_PRELOAD of libfaketime, FAKETIME=-7s,
#     monotonic time left alone), as two servers behind one balancer may be.
if command -v faketime >/dev/null 2>&1; then
  log "faketime: present"
else
  log "installing faketime (libfaketime) from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q faketime
fi

# 2d. openssl CLI: consult-stub's Redis TLS tests make their certificates with it.
if command -v openssl >/dev/null 2>&1; then
  log "openssl: present ($(openssl version | awk '{print $2}'))"
else
  log "installing openssl from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q openssl
fi

# 3. wasm-pack.
if have_version wasm-pack "$WASM_PACK_VERSION"; then
  log "wasm-pack $WASM_PACK_VERSION: present"
else
  log "installing wasm-pack $WASM_PACK_VERSION (several minutes)"
  cargo install --locked wasm-pack --version "$WASM_PACK_VERSION"
fi

# 4. wasm-bindgen-cli at exactly the version the workspace uses.
#    Not --locked: its lock pins a webpki-roots version the registry mirror here lacks.
WB_VERSION="$(wasm_bindgen_version)"
if [[ -z "$WB_VERSION" ]]; then
  log "error: cannot find the wasm-bindgen version in Cargo.lock or Cargo.toml" >&2
  exit 1
fi
if have_version wasm-bindgen "$WB_VERSION" && have_version wasm-bindgen-test-runner "$WB_VERSION"; then
  log "wasm-bindgen-cli $WB_VERSION: present"
else
  log "installing wasm-bindgen-cli $WB_VERSION (several minutes)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
fi

# 5. trunk, for the demo (0.22 needs rustc >= 1.96.1; 0.21.14 builds on 1.95). Its own LTO is
#    turned off: ~10 min to build instead of 20+.
TRUNK_VERSION="0.21.14"
if have_version trunk "$TRUNK_VERSION"; then
  log "trunk $TRUNK_VERSION: present"
else
  log "installing trunk $TRUNK_VERSION (about ten minutes)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked trunk --version "$TRUNK_VERSION"
fi

# 6. npm packages of tests/ (socket.io peers, playwright-core, binaryen, typescript, esbuild for
#    the size budget, React 19.2.3 + react-dom + @types/react for consult-client/react's web
#    test), from the lock file.
LOCK="$ROOT/tests/package-lock.json"
STAMP="$ROOT/tests/node_modules/.consult-lock.sha256"
WANT="$(sha256sum "$LOCK" | cut -d' ' -f1)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  log "tests/node_modules: up to date"
else
  log "installing tests/ npm packages from package-lock.json"
  (cd "$ROOT/tests" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  printf '%s' "$WANT" >"$STAMP"
fi

# 7. npm packages of the Expo example (examples/expo: the React Native tests of
#    scripts/test-react.sh), from its lock file, about 570 MB. Pins, each for a reason: expo
#    57.0.26 exactly (the newest 57.0.x wants an expo-router the registry here lacks), the
#    versions Expo 57 pairs with it (react-native 0.86.3, react 19.2.3, jest-expo 57.0.6, jest
#    29.7, AsyncStorage 2.2.0), @testing-library/react-native 13.3.3 with react-test-renderer
#    19.2.3 (14.x wants react 19.3), ws 8.23.1 (a real WebSocket for the Jest tests).
EXPO_LOCK="$ROOT/examples/expo/package-lock.json"
EXPO_STAMP="$ROOT/examples/expo/node_modules/.consult-lock.sha256"
EXPO_WANT="$(sha256sum "$EXPO_LOCK" | cut -d' ' -f1)"
if [[ -f "$EXPO_STAMP" && "$(cat "$EXPO_STAMP")" == "$EXPO_WANT" ]]; then
  log "examples/expo/node_modules: up to date"
else
  log "installing examples/expo npm packages from package-lock.json (about a minute)"
  (cd "$ROOT/examples/expo" && npm ci --no-audit --no-fund)
  printf '%s' "$EXPO_WANT" >"$EXPO_STAMP"
fi

log "done"
