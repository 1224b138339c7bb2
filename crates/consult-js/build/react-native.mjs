// The React Native entry: the same JavaScript driver over the core compiled to JavaScript by
// wasm2js (Hermes has no WebAssembly), with js/react-native/ (its entry and helpers).

import fs from "node:fs";
import path from "node:path";

import { CRATE, TESTS, copyFiles, die, run, tool } from "./tools.mjs";

/** Writes the entry into `dir` from the React Native core `wasm`; fails if any of its code
 * names WebAssembly. */
export async function buildReactNative(wasm, dir) {
  fs.mkdirSync(dir, { recursive: true });
  run(tool("wasm2js"), ["-O", wasm, "-o", path.join(dir, "consult_core_wasm2js.js")]);
  // The driver and its types, less the browser entries' .wasm loader.
  copyFiles(path.join(CRATE, "js"), dir, (f) => (f.endsWith(".js") && f !== "load_core.js") || f === "consult_client.d.ts");
  copyFiles(path.join(CRATE, "js/react-native"), dir, (f) => /\.(js|d\.ts)$/.test(f));
  const esbuild = (await import(path.join(TESTS, "node_modules/esbuild/lib/main.js"))).default;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".js"))) {
    // Comments stripped first: only code that names WebAssembly counts.
    const code = esbuild.transformSync(fs.readFileSync(path.join(dir, file), "utf8"), { minifyWhitespace: true, format: "esm", legalComments: "none" }).code;
    if (/\bWebAssembly\b/.test(code)) die(`react-native/${file} uses WebAssembly, which Hermes lacks`);
  }
}
