// Hot-path benchmark driver: serves index.html (+ seed.js) and the built npm package
// (target/pkg) from a tiny static server on 127.0.0.1, opens the page in headless Chromium
// (Debian's /usr/bin/chromium through playwright-core) and prints the page's figures.
//
//   node tests/bench/hot-path/bench.mjs [--rounds N] [--round-ms MS] [--json FILE] [--serve]
//
// --serve only serves the page (prints its URL) for a look in a real browser; Ctrl-C stops it.
// Not a test: scripts/bench-hot-path.sh runs it and writes BENCHMARKS.md.

import { createServer } from "node:http";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, extname, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..", "..");
const PAGE_DIR = "/tests/bench/hot-path/";
const PKG_DIR = "/target/pkg/";
const ALLOWED = [PAGE_DIR, PKG_DIR];
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const rounds = Number(arg("--rounds", 5));
const roundMs = Number(arg("--round-ms", 1000));
const jsonOut = arg("--json", null);
const serveOnly = process.argv.includes("--serve");

for (const file of ["index.js", "consult_client_bg.wasm"]) {
  if (!existsSync(resolve(ROOT, "target", "pkg", file))) {
    console.error(`target/pkg/${file} missing: run scripts/build-package.sh first`);
    process.exit(2);
  }
}

const server = createServer((request, response) => {
  const path = decodeURIComponent(new URL(request.url, "http://127.0.0.1").pathname);
  const file = resolve(ROOT, "." + path);
  const inside = ALLOWED.some((dir) => (path.startsWith(dir) && file.startsWith(resolve(ROOT, "." + dir) + sep)));
  if (request.method !== "GET" || !inside || !existsSync(file)) {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found");
    return;
  }
  response
    .writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" })
    .end(readFileSync(file));
});
await new Promise((done) => server.listen(0, "127.0.0.1", done));
const url = `http://127.0.0.1:${server.address().port}${PAGE_DIR}index.html?rounds=${rounds}&roundMs=${roundMs}`;

if (serveOnly) {
  console.log(`serving ${url}`);
} else {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
  let exitCode = 0;
  try {
    // UTC: the seed parses its naive expiry as local time (its bug); UTC keeps both sides equal.
    const context = await browser.newContext({ timezoneId: "UTC" });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    await page.goto(url);
    const budgetMs = 2 * (2 * rounds * roundMs + 2000) + 30_000;
    const deadline = Date.now() + budgetMs;
    let result;
    while (!result && errors.length === 0 && Date.now() < deadline) {
      result = await page.evaluate(() => window.__benchResult);
      if (!result) await new Promise((done) => setTimeout(done, 200));
    }
    if (!result) {
      throw new Error(errors.length ? `page failed: ${errors.join("; ")}` : `no result within ${budgetMs} ms`);
    }
    result.chromium = browser.version();
    for (const [mode, m] of Object.entries(result.modes)) {
      console.log(`${mode}: seed ${Math.round(m.seed)} calls/s, ours ${Math.round(m.ours)} calls/s, ratio ${m.ratio.toFixed(2)}`);
    }
    console.log(`network calls during the run: ${result.fetches}; refreshes by consult-client: ${result.refreshCount}`);
    if (result.fetches !== 0 || result.refreshCount !== 0) {
      console.error("the hot path touched the network: the figures are void");
      exitCode = 1;
    }
    if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
  } catch (error) {
    console.error(String(error?.stack ?? error));
    exitCode = 1;
  } finally {
    await browser.close();
    server.close();
  }
  process.exit(exitCode);
}
