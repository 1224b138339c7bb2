// Builds the Expo example (examples/expo) for Android as a React Native developer ships it —
// `npx expo export --platform android`: Metro bundles, then hermesc (the hermes-compiler package
// that comes with React Native) compiles the bundle to Hermes bytecode — and checks the result:
//   - the output is Hermes bytecode (the file's magic number);
//   - Metro resolved consult-client to its React Native entry (react-native/index.js, consult-core
//     compiled to JavaScript by wasm2js) and consult-client/react, and no browser or Node entry
//     (index.js, slim.js, node.js, load_core.js: they load a .wasm);
//   - nothing needs WebAssembly: no .wasm asset, and no `WebAssembly` in any module of the package
//     that Metro bundled (comments aside) nor in the bytecode's strings at all.
// Prints the bundle's size. Exits 1 when a check fails. Expects consult-client installed in
// examples/expo (scripts/test-react.sh installs the packed package).
//
// Usage: node tests/react/expo-export.mjs [OUT_DIR]   (default: a fresh temporary folder)

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const HERE = dirname(fileURLToPath(import.meta.url));
export const EXPO_APP = resolve(HERE, "..", "..", "examples", "expo");
/** Hermes bytecode files start with this magic number (little-endian 0x1F1903C103BC1FC6). */
const HERMES_MAGIC = Buffer.from([0xc6, 0x1f, 0xbc, 0x03, 0xc1, 0x03, 0x19, 0x1f]);
const PACKAGE = "node_modules/consult-client/";

/** Every file under `dir`. */
const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });

/** `npx expo export --platform android` of examples/expo into `out`; returns the .hbc and its source map. */
export function exportAndroid(out) {
  // The app's own Expo CLI (never a download), offline: no version checks, no telemetry.
  execFileSync(join(EXPO_APP, "node_modules", ".bin", "expo"), ["export", "--platform", "android", "--output-dir", out, "--source-maps"], {
    cwd: EXPO_APP,
    env: { ...process.env, CI: "1", EXPO_OFFLINE: "1", EXPO_NO_TELEMETRY: "1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const all = files(out);
  const bundle = all.find((path) => path.endsWith(".hbc"));
  if (!bundle) throw new Error(`no .hbc in ${out}: ${all.join(", ")}`);
  const map = all.find((path) => path.endsWith(".map"));
  return { bundle, map, all };
}

/** A module's code without its comments (enough for the package's own files). */
const code = (source) => source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'])\/\/.*$/gm, "$1");

function check(out) {
  const { bundle, map, all } = exportAndroid(out);
  const failures = [];
  const bytes = readFileSync(bundle);
  if (!bytes.subarray(0, 8).equals(HERMES_MAGIC)) failures.push(`${bundle} is not Hermes bytecode`);
  const wasmAssets = all.filter((path) => path.endsWith(".wasm"));
  if (wasmAssets.length > 0) failures.push(`the export ships WebAssembly: ${wasmAssets.join(", ")}`);
  if (bytes.includes("WebAssembly")) failures.push("the bytecode names WebAssembly");

  if (!map) {
    failures.push("no source map: cannot tell which of consult-client's modules Metro bundled");
  } else {
    const sourceMap = JSON.parse(readFileSync(map, "utf8"));
    const ours = sourceMap.sources
      .map((source, index) => ({ source, index }))
      .filter(({ source }) => source.includes(PACKAGE))
      .map(({ source, index }) => ({ file: source.slice(source.indexOf(PACKAGE) + PACKAGE.length), content: sourceMap.sourcesContent?.[index] ?? readFileSync(resolve(EXPO_APP, source.slice(source.indexOf(PACKAGE))), "utf8") }));
    const bundled = ours.map(({ file }) => file).sort();
    for (const needed of ["react-native/index.js", "react-native/consult_core_wasm2js.js", "react/index.js"]) {
      if (!bundled.includes(needed)) failures.push(`Metro did not bundle consult-client/${needed}`);
    }
    for (const wrong of ["index.js", "slim.js", "node.js", "load_core.js"]) {
      if (bundled.includes(wrong)) failures.push(`Metro bundled consult-client/${wrong}, a WebAssembly entry`);
    }
    for (const { file, content } of ours) {
      if (/\bWebAssembly\b/.test(code(content))) failures.push(`consult-client/${file} uses WebAssembly`);
    }
    console.log(`[expo-export] consult-client modules in the bundle: ${bundled.join(", ")}`);
  }
  const size = { hbc: bytes.length, hbcGzip: gzipSync(bytes, { level: 9 }).length };
  console.log(`[expo-export] ${bundle}: ${JSON.stringify(size)}`);
  return { failures, size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? mkdtempSync(join(tmpdir(), "consult-expo-export-"));
  const { failures } = check(out);
  if (failures.length > 0) {
    for (const failure of failures) console.error(`[expo-export] FAILED: ${failure}`);
    process.exit(1);
  }
  console.log("[expo-export] ok: Hermes bytecode, consult-client's React Native entry, no WebAssembly");
}
