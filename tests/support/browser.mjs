// Harness shared by the browser tests (tests/package/*.test.js, also through
// tests/support/package-page.mjs, and tests/e2e/demo.test.js): Debian's headless Chromium
// through playwright-core, a tiny static HTTP server on 127.0.0.1, a bounded wait, and the
// "missing prerequisite" checks that let every test report a missing build or browser instead of
// crashing the file.

import { createServer } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { extname, resolve, sep } from "node:path";

/** The Chromium binary: $CHROMIUM_BIN, or Debian's /usr/bin/chromium. */
export const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";

/** Content types by file extension; anything else is served as application/octet-stream. */
export const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

/**
 * Launches headless CHROMIUM through playwright-core (imported lazily, so a file whose
 * prerequisites are missing never loads it). `timeout` bounds the launch, in ms.
 */
export async function launchChromium({ timeout }) {
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
  });
}

/**
 * A static HTTP server on 127.0.0.1 (a free port), every answer `cache-control: no-store`:
 *   - `pages`: { "/path": html } — GET of that path answers the HTML string;
 *   - `files`: { "/path": file } — GET of that path answers the file on disk (read per request);
 *   - otherwise GET of a path under `allowPrefix` answers the file at `root` + path, provided it
 *     exists and stays inside `root` + `allowPrefix` (no escaping with ".." or encoded slashes);
 *   - /favicon.ico answers 204 (no 404 in the pages' console); anything else 404 "not found".
 * Resolves to { origin: "http://127.0.0.1:<port>", close() }.
 */
export async function serveStatic({ root, allowPrefix, pages = {}, files = {} }) {
  const allowedDir = resolve(root, "." + allowPrefix);
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://127.0.0.1").pathname);
    const send = (type, body) =>
      response.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body);
    const typeOf = (file) => TYPES[extname(file)] ?? "application/octet-stream";
    if (request.method === "GET" && Object.hasOwn(pages, path)) return send(TYPES[".html"], pages[path]);
    if (request.method === "GET" && Object.hasOwn(files, path)) return send(typeOf(files[path]), readFileSync(files[path]));
    if (path === "/favicon.ico") return response.writeHead(204).end();
    const file = resolve(root, "." + path);
    if (request.method !== "GET" || !path.startsWith(allowPrefix) || !file.startsWith(allowedDir + sep) || !existsSync(file)) {
      return response.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
    return send(typeOf(file), readFileSync(file));
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    async close() {
      server.closeAllConnections?.();
      await new Promise((done) => server.close(() => done()));
    },
  };
}

/** `promise`, or a rejection "<what>: no answer within <ms> ms" if it takes longer than `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * null if every one of `files` exists; otherwise an Error whose message is `hint(missing)`,
 * `missing` being the absent files (in the order given).
 */
export function missingFiles(files, hint) {
  const missing = files.filter((file) => !existsSync(file));
  return missing.length > 0 ? new Error(hint(missing)) : null;
}

/** null if CHROMIUM exists; otherwise an Error saying how to get it. */
export function missingChromium() {
  return missingFiles([CHROMIUM], () => `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_BIN)`);
}
