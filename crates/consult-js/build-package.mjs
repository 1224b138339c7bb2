// Builds the npm package consult-client into target/pkg: the one program that owns its layout.
//
//   node crates/consult-js/build-package.mjs          (scripts/build-package.sh runs it)
//
// Steps, each failing with a message that says what to do:
//   1. check the tools: wasm-opt, wasm2js and wasm-dis must be npm binaryen at the version
//      tests/package.json pins (Debian's binaryen 108 miscompiles what rustc 1.95 emits);
//   2. build the cores, stable Rust only (the crate is `no_std` on wasm32; rust-toolchain.toml):
//        main   wasm32-unknown-unknown, every machine            → consult_client_bg.wasm
//        slim   wasm32-unknown-unknown, --no-default-features    → consult_client_slim_bg.wasm
//               (no socket machine: 7 KB gz less, for consult-client/slim)
//        rn     wasm32v1-none (WebAssembly 1.0, what wasm2js takes), every machine
//      each `wasm-opt -Oz --converge`, with no custom section shipped (names, producers and
//      target features tell tools how it was built; no engine reads them);
//   3. check the boundary: no core imports anything; every export js/consult_core.js calls
//      exists (the slim core: all but the socket machine's, called on `videoCore`); no export of
//      the React Native core takes or returns an i64 (wasm2js would split it; times are f64 ms);
//   4. the React Native entry: the rn core through `wasm2js -O`, with the driver and
//      js/react-native/; nothing in it may name WebAssembly (Hermes has none);
//   5. assemble target/pkg: the driver (js/*.js and its .d.ts), the entries (entries/: index.js
//      and slim.js for browsers and bundlers, node.js), react-native/, react/ (the hooks of
//      consult-client/react, js/react/: no driver, only React), README, CHANGELOG and the
//      licences, and package.json from package.template.json with Cargo.toml's version and
//      description and the list of files.
//
// Why Node and not a Rust xtask: after one `cargo build` per core, every step runs an npm tool
// (binaryen, esbuild) or writes JSON for npm; a Rust program would only shell out to them.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const CRATE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(CRATE, "../..");
const TESTS = path.join(ROOT, "tests");
const BIN = path.join(TESTS, "node_modules/.bin");
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, "target");
const OUT = path.join(ROOT, "target/pkg");
const STAGE = path.join(TARGET, "pkg-stage");

const log = (message) => console.error(`[build-package] ${message}`);
function die(message) {
  console.error(`[build-package] error: ${message}`);
  process.exit(1);
}
const run = (command, args, options = {}) => execFileSync(command, args, { stdio: ["ignore", "inherit", "inherit"], ...options });
const read = (command, args) => execFileSync(command, args, { encoding: "utf8", maxBuffer: 1 << 28 });

// 1. Tools: npm binaryen at the one pinned version (tests/package.json).
const BINARYEN = JSON.parse(fs.readFileSync(path.join(TESTS, "package.json"), "utf8")).devDependencies.binaryen.split(".")[0];
for (const tool of ["wasm-opt", "wasm2js", "wasm-dis"]) {
  const binary = path.join(BIN, tool);
  if (!fs.existsSync(binary)) die(`${binary} missing: run scripts/setup.sh (installs npm binaryen ${BINARYEN} into tests/node_modules)`);
  const says = read(binary, ["--version"]).trim();
  if (!new RegExp(`^${tool} version ${BINARYEN}( |$)`).test(says)) die(`${binary} says '${says}'; binaryen ${BINARYEN} is required (Debian's corrupts the output): run scripts/setup.sh`);
}
log(`binaryen ${BINARYEN} from ${BIN}`);

// 2. The cores.
const CORES = {
  main: { target: "wasm32-unknown-unknown", features: [], file: "consult_client_bg.wasm" },
  slim: { target: "wasm32-unknown-unknown", features: ["--no-default-features"], file: "consult_client_slim_bg.wasm" },
  rn: { target: "wasm32v1-none", features: [], file: "consult_core_rn.wasm" },
};
fs.rmSync(STAGE, { recursive: true, force: true });
fs.mkdirSync(STAGE, { recursive: true });
for (const [name, core] of Object.entries(CORES)) {
  // A target dir per variant: cargo keeps one build per directory, and the release profile of
  // this build must not invalidate the normal ones.
  const targetDir = path.join(TARGET, `wasm-pkg-${name}`);
  log(`core ${name}: cargo build --release --target ${core.target} ${core.features.join(" ")}`);
  run("cargo", ["build", "--locked", "--release", "-p", "consult-js", "--target", core.target, ...core.features], {
    cwd: ROOT,
    env: { ...process.env, CARGO_TARGET_DIR: targetDir },
  });
  const built = path.join(targetDir, core.target, "release/consult_js.wasm");
  if (!fs.existsSync(built)) die(`${built} missing after the build`);
  core.path = path.join(STAGE, core.file);
  run(path.join(BIN, "wasm-opt"), ["-Oz", "--converge", "--strip-debug", "--strip-producers", "--strip-target-features", built, "-o", core.path]);
}

// 3. The boundary's contract (src/abi.rs).
const glue = fs.readFileSync(path.join(CRATE, "js/consult_core.js"), "utf8");
const called = (prefix) => [...new Set([...glue.matchAll(new RegExp(`\\b${prefix}\\.(\\w+)`, "g"))].map((m) => m[1]))];
const needs = { main: [...called("core"), ...called("videoCore")], slim: called("core"), rn: [...called("core"), ...called("videoCore")] };
for (const [name, core] of Object.entries(CORES)) {
  const module = new WebAssembly.Module(fs.readFileSync(core.path));
  const imports = WebAssembly.Module.imports(module);
  if (imports.length > 0) die(`core ${name} imports ${imports.map((i) => `${i.module}.${i.name}`).join(", ")}: it must import nothing`);
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = needs[name].filter((name) => !exported.has(name));
  if (needs[name].length === 0 || missing.length > 0) die(`js/consult_core.js calls exports core ${name} lacks: ${missing.join(", ")}`);
}
const text = read(path.join(BIN, "wasm-dis"), [CORES.rn.path]);
const wide = [...text.matchAll(/\(export "(\w+)" \(func \$(\S+)\)\)/g)].filter(([, , fn]) => {
  // The function's own line (` (func $name (param …) (result …)`), not the export's.
  const escaped = fn.replace(/[$^\\.*+?()[\]{}|]/g, "\\$&");
  const declaration = new RegExp(`^ \\(func \\$${escaped} ([^\\n]*)`, "m").exec(text);
  if (!declaration) die(`no declaration found for export ${fn}`);
  return /\bi64\b/.test(declaration[1]);
});
if (wide.length > 0) die(`exports with an i64: ${wide.map(([, name]) => name).join(", ")} (use f64)`);
log("boundary: no import, every export the binding calls, no i64");

// 4. The React Native entry: the driver over the core as JavaScript.
const rn = path.join(STAGE, "react-native");
fs.mkdirSync(rn);
run(path.join(BIN, "wasm2js"), ["-O", CORES.rn.path, "-o", path.join(rn, "consult_core_wasm2js.js")]);
copyFiles(path.join(CRATE, "js"), rn, (f) => f.endsWith(".js") && f !== "load_core.js");
copyFiles(path.join(CRATE, "js"), rn, (f) => f === "consult_client.d.ts");
copyFiles(path.join(CRATE, "js/react-native"), rn, (f) => /\.(js|d\.ts)$/.test(f));
const esbuild = (await import(path.join(TESTS, "node_modules/esbuild/lib/main.js"))).default;
for (const file of fs.readdirSync(rn).filter((f) => f.endsWith(".js"))) {
  // Comments stripped first: only code that names WebAssembly counts.
  const code = esbuild.transformSync(fs.readFileSync(path.join(rn, file), "utf8"), { minifyWhitespace: true, format: "esm", legalComments: "none" }).code;
  if (/\bWebAssembly\b/.test(code)) die(`react-native/${file} uses WebAssembly, which Hermes lacks`);
}

// 5. target/pkg.
fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(OUT, { recursive: true });
fs.copyFileSync(CORES.main.path, path.join(OUT, CORES.main.file));
fs.copyFileSync(CORES.slim.path, path.join(OUT, CORES.slim.file));
copyFiles(path.join(CRATE, "js"), OUT, (f) => /\.(js|d\.ts)$/.test(f));
copyFiles(path.join(CRATE, "entries"), OUT, (f) => f.endsWith(".js"));
copyFiles(CRATE, OUT, (f) => f === "README.md" || f === "CHANGELOG.md");
copyFiles(ROOT, OUT, (f) => f.startsWith("LICENSE-"));
fs.cpSync(rn, path.join(OUT, "react-native"), { recursive: true });
// consult-client/react: the hooks, plain modules that import only React (an optional peer
// dependency) and are handed the app's client, so they add nothing to the other entries.
fs.mkdirSync(path.join(OUT, "react"));
copyFiles(path.join(CRATE, "js/react"), path.join(OUT, "react"), (f) => /\.(js|d\.ts)$/.test(f));

const cargo = fs.readFileSync(path.join(CRATE, "Cargo.toml"), "utf8");
const pkg = JSON.parse(fs.readFileSync(path.join(CRATE, "package.template.json"), "utf8"));
pkg.version = /^version = "(.*)"/m.exec(cargo)?.[1] ?? die("no version in Cargo.toml");
pkg.files = [...fs.readdirSync(OUT).filter((f) => /\.(js|d\.ts|wasm|md)$|^LICENSE/.test(f)).sort(), "react-native/", "react/"];
// Every file the template's entries name must exist.
const values = (value) => (typeof value === "string" ? [value] : Object.values(value).flatMap(values));
const named = values([pkg.exports, pkg.main, pkg.module, pkg.types, pkg["react-native"], pkg.sideEffects]);
for (const file of named.filter((f) => f !== "./package.json")) {
  if (!fs.existsSync(path.join(OUT, file))) die(`package.template.json names ${file}, which the build did not make`);
}
fs.writeFileSync(path.join(OUT, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
log(`done: ${path.relative(ROOT, OUT)} (${fs.readdirSync(OUT).length} entries)`);

/** Copies the files of `from` that `keep` accepts (by name) into `to`. */
function copyFiles(from, to, keep) {
  for (const file of fs.readdirSync(from)) {
    if (fs.statSync(path.join(from, file)).isFile() && keep(file)) fs.copyFileSync(path.join(from, file), path.join(to, file));
  }
}
