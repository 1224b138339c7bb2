// The npm package consult-client: the one program that builds it and owns its layout.
//
//   node crates/consult-js/build/package.mjs [build]   build target/pkg (scripts/build-package.sh)
//   node crates/consult-js/build/package.mjs sizes      check its size as shipped (scripts/size-budget.sh)
//
// build, each step failing with a message that says what to do:
//   1. the tools: wasm-opt, wasm2js and wasm-dis are npm binaryen at the version tests/package.json
//      pins (cores.mjs);
//   2. the cores, stable Rust only: main, slim (no socket machine) and React Native's
//      (wasm32v1-none) (cores.mjs);
//   3. the boundary: no import, every export the binding calls, no i64 (cores.mjs);
//   4. the React Native entry through wasm2js, nothing in it naming WebAssembly
//      (react-native.mjs);
//   5. target/pkg with package.json from package.template.json (layout.mjs).
// sizes: what Vite and webpack ship per entry, against the ceilings (sizes.mjs).
// Packing is npm's own: `npm pack target/pkg` (tests/consumers/apps.mjs does it for the tests).
//
// Why Node and not a Rust xtask: after one `cargo build` per core, every step runs an npm tool
// (binaryen, esbuild, Vite, webpack) or writes JSON for npm; a Rust program would only shell out.

import fs from "node:fs";
import path from "node:path";

import { buildCores, checkBinaryen, checkBoundary } from "./cores.mjs";
import { assemble } from "./layout.mjs";
import { buildReactNative } from "./react-native.mjs";
import { checkSizes } from "./sizes.mjs";
import { OUT, ROOT, TARGET, die, log } from "./tools.mjs";

const command = process.argv[2] ?? "build";
if (command === "build") {
  checkBinaryen();
  const stage = path.join(TARGET, "pkg-stage");
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  const built = buildCores(stage);
  checkBoundary(built);
  const reactNative = path.join(stage, "react-native");
  await buildReactNative(built.rn, reactNative);
  assemble(built, reactNative);
  log(`done: ${path.relative(ROOT, OUT)} (${fs.readdirSync(OUT).length} entries)`);
} else if (command === "sizes") {
  checkSizes();
} else {
  die(`unknown command ${command}: build (the default) or sizes`, 2);
}
