// The package's cores: consult-core's machines and their exports (crate consult-js), built on
// stable Rust (the crate is `no_std` on wasm32; rust-toolchain.toml pins the toolchain), each
// optimised by npm binaryen's wasm-opt, then checked against the binding that calls them.

import fs from "node:fs";
import path from "node:path";

import { BINARYEN, CRATE, ROOT, TARGET, die, log, read, run, tool } from "./tools.mjs";

/** The three builds: the main entry's, consult-client/slim's (no socket machine, 7 KB gz less)
 * and React Native's (WebAssembly 1.0, what wasm2js takes). */
export const CORES = {
  main: { target: "wasm32-unknown-unknown", features: [], file: "consult_client_bg.wasm" },
  slim: { target: "wasm32-unknown-unknown", features: ["--no-default-features"], file: "consult_client_slim_bg.wasm" },
  rn: { target: "wasm32v1-none", features: [], file: "consult_core_rn.wasm" },
};

/** Checks that wasm-opt, wasm2js and wasm-dis are npm binaryen at the pinned version. */
export function checkBinaryen() {
  for (const name of ["wasm-opt", "wasm2js", "wasm-dis"]) {
    const says = read(tool(name), ["--version"]).trim();
    if (!new RegExp(`^${name} version ${BINARYEN}( |$)`).test(says)) die(`${tool(name)} says '${says}'; binaryen ${BINARYEN} is required (Debian's corrupts the output): run scripts/setup.sh`);
  }
  log(`binaryen ${BINARYEN}`);
}

/** Builds every core into `stage` (wasm-opt -Oz until nothing changes, no custom section: names,
 * producers and target features tell tools how it was built, no engine reads them); returns
 * each core's path by name. `--low-memory-unused` lets wasm-opt fold a constant added to an
 * address into the load's offset (-110 B gz): true of Rust's layout, where addresses below 1 KiB
 * are never used (the stack is the first 1 MiB, growing down from its top; data and heap are
 * above it). */
export function buildCores(stage) {
  const built = {};
  for (const [name, core] of Object.entries(CORES)) {
    // A target dir per core: cargo keeps one build per directory, and this release profile must
    // not invalidate the normal builds.
    const targetDir = path.join(TARGET, `wasm-pkg-${name}`);
    log(`core ${name}: cargo build --release --target ${core.target} ${core.features.join(" ")}`);
    run("cargo", ["build", "--locked", "--release", "-p", "consult-js", "--target", core.target, ...core.features], {
      cwd: ROOT,
      env: { ...process.env, CARGO_TARGET_DIR: targetDir },
    });
    const wasm = path.join(targetDir, core.target, "release/consult_js.wasm");
    if (!fs.existsSync(wasm)) die(`${wasm} missing after the build`);
    built[name] = path.join(stage, core.file);
    run(tool("wasm-opt"), ["-Oz", "--converge", "--low-memory-unused", "--strip-debug", "--strip-producers", "--strip-target-features", wasm, "-o", built[name]]);
  }
  return built;
}

/** The boundary's contract (src/abi.rs): no core imports anything; every export
 * js/consult_core.js calls exists (the slim core: all but the socket machine's, which the binding
 * calls on `videoCore`); no export of the React Native core takes or returns an i64 (wasm2js
 * would split it; times are f64 ms). */
export function checkBoundary(built) {
  const glue = fs.readFileSync(path.join(CRATE, "js/consult_core.js"), "utf8");
  const called = (prefix) => [...new Set([...glue.matchAll(new RegExp(`\\b${prefix}\\.(\\w+)`, "g"))].map((m) => m[1]))];
  const every = [...called("core"), ...called("videoCore")];
  const needs = { main: every, slim: called("core"), rn: every };
  for (const [name, wasm] of Object.entries(built)) {
    const module = new WebAssembly.Module(fs.readFileSync(wasm));
    const imports = WebAssembly.Module.imports(module);
    if (imports.length > 0) die(`core ${name} imports ${imports.map((i) => `${i.module}.${i.name}`).join(", ")}: it must import nothing`);
    const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    const missing = needs[name].filter((fn) => !exported.has(fn));
    if (needs[name].length === 0 || missing.length > 0) die(`js/consult_core.js calls exports core ${name} lacks: ${missing.join(", ")}`);
  }
  const text = read(tool("wasm-dis"), [built.rn]);
  const wide = [...text.matchAll(/\(export "(\w+)" \(func \$(\S+)\)\)/g)].filter(([, , fn]) => {
    // The function's own line (` (func $name (param …) (result …)`), not the export's.
    const escaped = fn.replace(/[$^\\.*+?()[\]{}|]/g, "\\$&");
    const declaration = new RegExp(`^ \\(func \\$${escaped} ([^\\n]*)`, "m").exec(text);
    if (!declaration) die(`no declaration found for export ${fn}`);
    return /\bi64\b/.test(declaration[1]);
  });
  if (wide.length > 0) die(`exports with an i64: ${wide.map(([, name]) => name).join(", ")} (use f64)`);
  log("boundary: no import, every export the binding calls, no i64");
}
