// Harness shared by the browser tests of the built npm package (tests/package/two-tabs,
// token-scenarios, video-session and socketio-interop .test.js): where the package is
// (target/pkg, built by scripts/build-package.sh), the "missing prerequisite" checks, the page
// that imports it, the static server of that page and the package files, and opening
// such a page in Chromium until the package is ready. Each test file keeps its own page script
// (what it records: fetches, WebSockets, …), its own stubs and its own assertions.

import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { stubBinary } from "../interop/stub.js";
import { missingFiles, serveStatic, withTimeout } from "./browser.mjs";

/** The repository's root (the static server's root). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The built package on disk. */
export const PKG_DIR = resolve(ROOT, "target", "pkg");
/** The package files a page needs: its browser entry (which loads the wasm itself), its wasm and
 * its Node entry. */
export const PKG_FILES = ["index.js", "consult_client_bg.wasm", "node.js"].map((file) => resolve(PKG_DIR, file));
/** The URL path the static server answers the package's files under. */
export const PKG_URL_DIR = "/target/pkg/";

/** null if the package is built (PKG_FILES exist); otherwise an Error saying how to build it. */
export function missingPackage() {
  return missingFiles(
    PKG_FILES,
    (missing) =>
      `the npm package is not built: missing ${missing.join(", ")}. ` +
      "Run scripts/build-package.sh (or scripts/test-package.sh) first.",
  );
}

/** null if the consult-stub binary (stubBinary()) exists; otherwise an Error saying how to build it. */
export function missingStub() {
  return missingFiles(
    [stubBinary()],
    () => `consult-stub binary not found at ${stubBinary()}: run \`cargo build -p consult-stub\` or set CONSULT_STUB_BIN`,
  );
}

/**
 * The HTML of a page that loads the package: a module script that runs `script` first (the
 * test's own set-up: fetch or WebSocket wrappers, helpers on window), then, inside a try,
 * `preflight` (statements that may throw, e.g. a check that another script loaded) and the
 * package's import (its browser entry loads the wasm: there is no init to call). On success it sets window.__ConsultClient (the constructor) and
 * window.__ready = true; on a throw, window.__initError (the stack). `title` follows
 * "consult-client: " in <title>; `head` is put at the end of <head> (e.g. a classic <script src>).
 */
export function packagePage({ title, head = "", script = "", preflight = "" }) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>consult-client: ${title}</title>${head}</head>
<body>
<script type="module">
${script}
try {
${preflight ? `${preflight}\n` : ""}  const pkg = await import("${PKG_URL_DIR}index.js");
  window.__ConsultClient = pkg.ConsultClient;
  window.__ready = true;
} catch (error) {
  window.__initError = String(error?.stack ?? error);
}
</script>
</body></html>`;
}

/**
 * serveStatic (tests/support/browser.mjs) of the package: files under PKG_URL_DIR from ROOT,
 * plus `pages` ({ "/path": html }) and `files` ({ "/path": file on disk }).
 * Resolves to { origin, close() }.
 */
export function servePackage({ pages, files = {} }) {
  return serveStatic({ root: ROOT, allowPrefix: PKG_URL_DIR, pages, files });
}

/**
 * Loads `url` (a packagePage) in `page` and waits until the package is initialised, each step
 * bounded by `timeout` ms. An init failure (window.__initError) is thrown as
 * "<name>: the package did not load: …" (without "<name>: " when `name` is not given).
 */
export async function loadPackagePage(page, url, { timeout, name = "" }) {
  await page.goto(url, { timeout });
  await page.waitForFunction(() => window.__ready || window.__initError, null, { timeout });
  const initError = await page.evaluate(() => window.__initError);
  if (initError) throw new Error(`${name ? `${name}: ` : ""}the package did not load: ${initError}`);
}

/**
 * A new page of `context` with `url` loaded as loadPackagePage does. From the start `errors`
 * collects the page's uncaught errors ("<name>: <error>") and its console errors and warnings
 * ("<name> console.<type>: <text>"); without `name`, the same without the name.
 */
export async function openPackagePage(context, url, { timeout, name = "", errors }) {
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(`${name ? `${name}: ` : ""}${error}`));
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") {
      errors.push(`${name ? `${name} ` : ""}console.${message.type()}: ${message.text()}`);
    }
  });
  await loadPackagePage(page, url, { timeout, name });
  return page;
}

/** Stores a stub grant in the page under the package's default keys (authToken / tokenExpiresAt). */
export function storeToken(page, { access_token, expires_at }) {
  return page.evaluate(
    ([token, expiresAt]) => {
      localStorage.setItem("authToken", token);
      localStorage.setItem("tokenExpiresAt", expiresAt);
    },
    [access_token, expires_at],
  );
}

/** The events of a video session that connectVideoSession records. */
export const VIDEO_EVENTS = ["joined_room", "participant_joined", "participant_left", "session_status", "error", "state"];

/**
 * In the page: `window.session = window.client.connectVideoSession(options)`, every one of
 * VIDEO_EVENTS recorded in `window.__video` as { event, payload, at }. Resolves to the session's
 * state right after the call; rejects if that takes more than `timeout` ms.
 */
export function connectVideoSession(page, options, timeout) {
  return withTimeout(
    page.evaluate(
      ([options, names]) => {
        window.__video = [];
        window.session = window.client.connectVideoSession(options);
        for (const name of names) {
          window.session.on(name, (payload) => window.__video.push({ event: name, payload, at: Date.now() }));
        }
        return window.session.state;
      },
      [options, VIDEO_EVENTS],
    ),
    timeout,
    "connectVideoSession",
  );
}

/** A token's last 12 characters ("…abc"), for failure messages; anything else as a string. */
export function short(token) {
  return typeof token === "string" ? `…${token.slice(-12)}` : String(token);
}
