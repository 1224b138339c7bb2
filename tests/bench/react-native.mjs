// The React Native entry (wasm2js) beside the wasm entry, in Node 20: sizes as shipped and the
// getValidToken() hot path. Not a test; figures for BENCHMARKS.md ("React Native entry").
//
//   scripts/build-package.sh
//   cd tests && node bench/react-native.mjs [--rounds 7] [--round-ms 1000]
//
// Sizes: each entry bundled by esbuild (minified, ESM) with the driver and glue; the wasm entry's
// .wasm beside it (wasm-opt -Oz), the React Native entry has none (consult-core is JavaScript);
// gzip -9. Speed, calls/s, medians of rounds; in one Node process the two entries alternate per
// round; the same modes then run in the Hermes CLI (no JIT; tests/bench/react-native-hermes.js,
// bundled and transformed as tests/react-native/hermes.test.js does):
//   - getValidToken() sequential (`await` each, as the seed's callers do) and concurrent (100 at
//     once): the hot path, inside the machine's lease — the driver answers without calling core;
//   - tokenInfo(): seven calls into core (a string and six numbers back), i.e. the boundary;
//   - start-up to a first token: a fresh `node` importing the entry (and instantiating the wasm),
//     median of 5; the whole `hermes` process on the script compiled to bytecode by hermesc (as
//     a release app ships it) and from source, median of 5.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as esbuild from "esbuild";

import { HERMES, bundle as bundleForHermes, runHermes } from "../react-native/hermes-support.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const WEB = resolve(ROOT, "target", "pkg");
const RN = resolve(ROOT, "target", "pkg", "react-native");

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg("--rounds", 7);
const ROUND_MS = arg("--round-ms", 1000);
const BATCH = 100;
const fmt = (n) => Math.round(n).toLocaleString("en-US");
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// ---- sizes ---------------------------------------------------------------------------------------

async function bundleSize(entry, external = []) {
  const built = await esbuild.build({ entryPoints: [entry], bundle: true, minify: true, format: "esm", write: false, logLevel: "silent", external: ["*.wasm", ...external] });
  const code = built.outputFiles[0].contents;
  return { raw: code.length, gz: gzipSync(code, { level: 9 }).length };
}
const wasmBytes = readFileSync(resolve(WEB, "consult_client_bg.wasm"));
const sizes = {
  web: await bundleSize(resolve(WEB, "index.js")),
  wasm: { raw: wasmBytes.length, gz: gzipSync(wasmBytes, { level: 9 }).length },
  rn: await bundleSize(resolve(RN, "index.js")),
  rnCore: await bundleSize(resolve(RN, "consult_core_wasm2js.js")),
};

// ---- speed ---------------------------------------------------------------------------------------

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const nowS = Math.floor(Date.now() / 1000);
const TOKEN = `${b64({ typ: "JWT", alg: "HS256" })}.${b64({ sub: "patient-1", iat: nowS, exp: nowS + 4 * 3600, jti: "bench" })}.c2ln`;
const GRANT = { access_token: TOKEN, expires_in: 4 * 3600 };
const BASE_URL = "http://127.0.0.1:9"; // discard port: a refresh would fail loudly

const web = await import(pathToFileURL(resolve(WEB, "node.js")).href); // instantiates the wasm
const rn = await import(pathToFileURL(resolve(RN, "index.js")).href);

const clients = {};
for (const [name, pkg] of Object.entries({ wasm: web, wasm2js: rn })) {
  const client = new pkg.ConsultClient({ baseUrl: BASE_URL, storage: "memory", autoRefresh: false });
  await client.setSession(GRANT);
  if ((await client.getValidToken()) !== TOKEN) throw new Error(`${name}: wrong token`);
  clients[name] = client;
}

async function sequential(client, ms) {
  let calls = 0;
  const start = performance.now();
  while (performance.now() < start + ms) {
    for (let i = 0; i < BATCH; i++) await client.getValidToken();
    calls += BATCH;
  }
  return calls / ((performance.now() - start) / 1000);
}
async function concurrent(client, ms) {
  let calls = 0;
  const start = performance.now();
  while (performance.now() < start + ms) {
    await Promise.all(Array.from({ length: BATCH }, () => client.getValidToken()));
    calls += BATCH;
  }
  return calls / ((performance.now() - start) / 1000);
}
async function tokenInfo(client, ms) {
  let calls = 0;
  const start = performance.now();
  while (performance.now() < start + ms) {
    for (let i = 0; i < BATCH; i++) if (client.tokenInfo().token !== TOKEN) throw new Error("wrong token");
    calls += BATCH;
    await null;
  }
  return calls / ((performance.now() - start) / 1000);
}

const speed = {};
for (const [mode, run] of Object.entries({ sequential, concurrent, tokenInfo })) {
  for (const client of Object.values(clients)) await run(client, 300); // warm-up
  const samples = { wasm: [], wasm2js: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? ["wasm2js", "wasm"] : ["wasm", "wasm2js"];
    for (const name of order) samples[name].push(await run(clients[name], ROUND_MS));
  }
  speed[mode] = { wasm: median(samples.wasm), wasm2js: median(samples.wasm2js) };
}
for (const client of Object.values(clients)) client.dispose();

function startup(script) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const ms = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    times.push(Number(ms));
  }
  return median(times);
}
const grant = JSON.stringify(GRANT);
const startupMs = {
  wasm: startup(`const t0 = performance.now();
    const pkg = await import(${JSON.stringify(pathToFileURL(resolve(WEB, "node.js")).href)});
    const c = new pkg.ConsultClient({ baseUrl: "${BASE_URL}", storage: "memory", autoRefresh: false });
    await c.setSession(${grant}); await c.getValidToken(); c.dispose();
    process.stdout.write(String(performance.now() - t0));`),
  wasm2js: startup(`const t0 = performance.now();
    const pkg = await import(${JSON.stringify(pathToFileURL(resolve(RN, "index.js")).href)});
    const c = new pkg.ConsultClient({ baseUrl: "${BASE_URL}", storage: "memory", autoRefresh: false });
    await c.setSession(${grant}); await c.getValidToken(); c.dispose();
    process.stdout.write(String(performance.now() - t0));`),
};

// Hermes (no JIT): the same modes in the engine React Native runs, the bytecode compiled at launch.
async function hermes() {
  const script = await bundleForHermes(resolve(HERE, "react-native-hermes.js"), { token: TOKEN, grant: GRANT, rounds: ROUNDS, roundMs: ROUND_MS });
  const dir = mkdtempSync(resolve(tmpdir(), "consult-hermes-bench-"));
  try {
    const file = resolve(dir, "bench.js");
    writeFileSync(file, script);
    const { error, stdout, stderr } = await runHermes(file, 10 * 60_000);
    const line = stdout.split("\n").find((l) => l.startsWith("BENCH "));
    if (error || !line) throw new Error(`hermes bench failed: ${error?.message ?? ""}\n${stdout}\n${stderr.slice(0, 2000)}`);
    return JSON.parse(line.slice("BENCH ".length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const inHermes = await hermes();

// A release app ships Hermes bytecode (hermesc at build time): the whole `hermes` process run on
// the bytecode of a script that loads the entry and gets a first token (median of 5), beside the
// same script from source (compiled at launch, as this CLI does with .js).
async function hermesStartup() {
  const script = await bundleForHermes(resolve(HERE, "react-native-hermes.js"), { token: TOKEN, grant: GRANT, rounds: 0, roundMs: 0 });
  const dir = mkdtempSync(resolve(tmpdir(), "consult-hermes-start-"));
  try {
    const js = resolve(dir, "start.js");
    const hbc = resolve(dir, "start.hbc");
    writeFileSync(js, script);
    execFileSync(resolve(dirname(HERMES), "hermesc"), ["-O", "-emit-binary", "-out", hbc, js], { stdio: "ignore" });
    const wall = (file) => {
      const times = [];
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        const out = execFileSync(HERMES, [file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
        times.push(performance.now() - start);
        if (!out.startsWith("BENCH ")) throw new Error(`hermes start-up run failed: ${out}`);
      }
      return median(times);
    };
    return { bytecodeMs: wall(hbc), sourceMs: wall(js), bytecodeBytes: readFileSync(hbc).length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const hermesStart = await hermesStartup();

// ---- report --------------------------------------------------------------------------------------

const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
const ratio = (mode) => `${fmt(speed[mode].wasm2js)} (${(speed[mode].wasm2js / speed[mode].wasm).toFixed(2)}×)`;
const lines = [
  "| shipped (bundled by esbuild, minified; gzip -9) | wasm entry (`target/pkg`) | React Native entry (`target/pkg/react-native`) |",
  "|---|---|---|",
  `| JavaScript: driver + glue (+ consult-core for React Native) | ${fmt(sizes.web.raw)} B / ${fmt(sizes.web.gz)} B gz | ${fmt(sizes.rn.raw)} B / ${fmt(sizes.rn.gz)} B gz |`,
  `| .wasm (wasm-opt -Oz) | ${fmt(sizes.wasm.raw)} B / ${fmt(sizes.wasm.gz)} B gz | none |`,
  `| total | ${fmt(sizes.web.raw + sizes.wasm.raw)} B / ${fmt(sizes.web.gz + sizes.wasm.gz)} B gz | ${fmt(sizes.rn.raw)} B / ${fmt(sizes.rn.gz)} B gz |`,
  `| of which consult-core (the wasm2js module alone) | – | ${fmt(sizes.rnCore.raw)} B / ${fmt(sizes.rnCore.gz)} B gz |`,
  "",
  `Node ${process.version} and the Hermes 0.12 CLI (no JIT), ${ROUNDS} rounds × ${ROUND_MS} ms per entry and mode, medians; the two Node entries alternate per round; 1-minute load average at the end: ${load}.`,
  "",
  "| calls/s | wasm entry, Node | React Native entry (wasm2js), Node | React Native entry, Hermes |",
  "|---|---|---|---|",
  `| \`getValidToken()\` sequential (\`await\` each) | ${fmt(speed.sequential.wasm)} | ${ratio("sequential")} | ${fmt(inHermes.sequential)} |`,
  `| \`getValidToken()\` 100 concurrent | ${fmt(speed.concurrent.wasm)} | ${ratio("concurrent")} | ${fmt(inHermes.concurrent)} |`,
  `| \`tokenInfo()\` (7 calls into consult-core) | ${fmt(speed.tokenInfo.wasm)} | ${ratio("tokenInfo")} | ${fmt(inHermes.tokenInfo)} |`,
  `| start-up to the first token (ms): a fresh process importing the entry (Node); the whole \`hermes\` process on hermesc bytecode (${fmt(hermesStart.bytecodeBytes)} B), and from source | ${startupMs.wasm.toFixed(1)} | ${startupMs.wasm2js.toFixed(1)} | ${hermesStart.bytecodeMs.toFixed(0)} (bytecode), ${hermesStart.sourceMs.toFixed(0)} (source) |`,
];
console.log(lines.join("\n"));
