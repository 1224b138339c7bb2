// The package's size AS SHIPPED, against its ceilings. The package (target/pkg) is packed and
// installed into the Vite 8 and webpack 5 apps of tests/consumers/ (an app that signs in,
// refreshes, polls, and joins the room when its entry has the video session), built for
// production with no configuration, once per entry; every .js and .wasm file each build outputs
// is gzipped (-9) on its own, as a server sends it (tests/consumers/measure.mjs), and per entry
// the larger total is checked:
//   consult-client/slim  ≤ 30 KiB (SIZE_BUDGET_BYTES), the issues' budget
//   consult-client       ≤ the ratchet (RATCHET_BYTES): the measured size rounded up, so it cannot
//                        grow unnoticed (the socket machine, 7 KB gz, keeps it over 30 KiB)
//   React Native entry   ≤ its own ratchet, bundled and minified by esbuild
// Printed beside them, not budgeted: the main entry minified by esbuild with the .wasm left out
// (how the issues' anchors were measured), and the package's files as they are.
// Exit code 1 when an entry exceeds its ceiling, 2 on a usage or missing-file error.

import fs from "node:fs";
import path from "node:path";

import { OUT, TARGET, TESTS, die, gzipped, log, read, run, tool } from "./tools.mjs";

const TARGET_BYTES = 30720; // 30 KiB: the issues' budget, for consult-client/slim
// consult-client: measured 36,980 B (webpack, the larger): session 10's savings (-633 B), then
// the million run's machine fixes (+73 B), the stale-store rule (+143 B) and the store check's
// chain of messages (+129 B), less 24 B (BENCHMARKS.md, "Session 10").
const RATCHET = 37100;
// The React Native entry (consult-core as wasm2js JavaScript), esbuild-minified: measured 53,001 B
// (52,509 B before the million run's machine fixes, the stale-store rule and the chain).
const RN_RATCHET = 53100;

/** A whole number of bytes from the environment, or `fallback`. */
function ceiling(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  if (!/^[0-9]+$/.test(value)) die(`${name} must be a whole number of bytes`, 2);
  return Number(value);
}

/** Measures target/pkg; exits 1 when an entry is over its ceiling. */
export function checkSizes() {
  const budget = ceiling("SIZE_BUDGET_BYTES", TARGET_BYTES);
  const ratchet = ceiling("RATCHET_BYTES", RATCHET);
  for (const file of ["index.js", "slim.js", "consult_core.js", "consult_client.js", "consult_client_bg.wasm", "consult_client_slim_bg.wasm", "package.json", "react-native/index.js"]) {
    if (!fs.existsSync(path.join(OUT, file))) die(`${path.join(OUT, file)} missing: run scripts/build-package.sh`, 2);
  }
  for (const name of ["esbuild", "vite", "webpack"]) tool(name);

  const row = (name, ...cells) => console.log(name.padEnd(34) + cells.map((c) => String(c).padStart(11)).join(""));
  console.log("\nthe package files as they are (not budgeted):");
  row("target/pkg/", "raw B", "gzip -9 B");
  for (const file of fs.readdirSync(OUT).filter((f) => /\.(js|wasm)$/.test(f))) {
    row(file, fs.statSync(path.join(OUT, file)).size, gzipped(path.join(OUT, file)));
  }

  const bundles = path.join(TARGET, "size-budget");
  fs.mkdirSync(bundles, { recursive: true });
  const bundle = (entry, out, external) => {
    run(tool("esbuild"), [path.join(OUT, entry), "--bundle", "--minify", "--format=esm", ...external, "--log-level=warning", `--outfile=${out}`]);
    return gzipped(out);
  };
  const esbuildJs = bundle("index.js", path.join(bundles, "consult_client.min.js"), ["--external:*.wasm"]);
  const wasm = gzipped(path.join(OUT, "consult_client_bg.wasm"));
  console.log(`\nesbuild, minified, the .wasm left out (not budgeted): JS ${esbuildJs} + wasm ${wasm} = ${esbuildJs + wasm} B gz`);

  log("building the consumer apps (Vite, webpack) per entry");
  const sizes = JSON.parse(read("node", [path.join(TESTS, "consumers/measure.mjs")]));
  console.log("\nwhat an application ships (budgeted per entry: the larger build):");
  row("", "JS gz B", "wasm gz B", "total B");
  const shipped = {};
  for (const [entry, s] of Object.entries(sizes)) {
    console.log(entry);
    row("  Vite 8 (vite build)", s.vite.js, s.vite.wasm, s.vite.total);
    row("  webpack 5 (--mode production)", s.webpack.js, s.webpack.wasm, s.webpack.total);
    shipped[entry] = Math.max(s.vite.total, s.webpack.total);
  }
  const slim = shipped["consult-client/slim"] ?? die("measure.mjs did not measure consult-client/slim");
  const main = shipped["consult-client"] ?? die("measure.mjs did not measure consult-client");
  console.log(`${"budgeted consult-client/slim".padEnd(34)}${String(slim).padStart(33)}  (ceiling ${budget}: the 30 KiB target)`);
  console.log(`${"budgeted consult-client".padEnd(34)}${String(main).padStart(33)}  (ceiling ${ratchet}: the ratchet)`);

  const reactNative = bundle("react-native/index.js", path.join(bundles, "react_native.min.js"), []);
  console.log(`\nReact Native entry (esbuild, minified; consult-core as JavaScript): ${reactNative} B gz, ratchet ${RN_RATCHET} B`);

  const over = [
    [slim, budget, "consult-client/slim"],
    [main, ratchet, "consult-client"],
    [reactNative, RN_RATCHET, "the React Native entry"],
  ].filter(([size, limit]) => size > limit);
  for (const [size, limit, entry] of over) console.log(`\nOVER BUDGET: ${entry} ships ${size} B gz > ${limit} B (by ${size - limit} B)`);
  if (over.length > 0) process.exit(1);
  console.log(`\nwithin budget: consult-client/slim ${slim} B gz <= ${budget} B (${budget - slim} B to spare); consult-client ${main} B <= ${ratchet} B; React Native ${reactNative} B <= ${RN_RATCHET} B`);
  if (main > TARGET_BYTES) console.log(`consult-client (with the video session) is over the 30 KiB target by ${main - TARGET_BYTES} B (${((main - TARGET_BYTES) / 1024).toFixed(1)} KiB)`);
}
