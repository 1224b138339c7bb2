// consult-client/slim, the package's entry without the built-in video session (target/pkg/slim.js
// over consult_client_slim_bg.wasm, a core built without the socket machine), in REAL headless
// Chromium pages against the real consult-stub:
//   1. alone, it downloads only its own core, signs in with an expired token and refreshes it,
//      and `connectVideoSession` throws a TypeError that names the entry to import instead;
//   2. with the main entry loaded after it in the same page (an application whose modules import
//      both), a client made before the main entry arrived keeps working — its machine stays in
//      the core it was made in — and its video session, from the main entry's core, joins the room.
// Build the package first: scripts/build-package.sh (scripts/test-package.sh does), and the stub.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { startStub } from "../interop/stub.js";
import { launchChromium, missingChromium, withTimeout } from "../support/browser.mjs";
import { PKG_URL_DIR, missingPackage, missingStub, servePackage } from "../support/package-page.mjs";

const PAGE_PATH = "/slim.html";
const STEP_TIMEOUT_MS = 15_000;

// The page records the .wasm files it fetches, then imports consult-client/slim. The test imports
// the main entry later, when it wants to (window.__importMain).
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>consult-client/slim</title></head>
<body>
<script type="module">
window.__wasm = [];
const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = (input, init) => {
  const url = String(input?.url ?? input);
  if (url.endsWith(".wasm")) window.__wasm.push(url.slice(url.lastIndexOf("/") + 1));
  return realFetch(input, init);
};
window.__importMain = () => import("${PKG_URL_DIR}index.js").then((main) => (window.main = main));
try {
  window.slim = await import("${PKG_URL_DIR}slim.js");
  window.__ready = true;
} catch (error) {
  window.__initError = String(error?.stack ?? error);
}
</script>
</body></html>`;

const prerequisite = missingPackage() ?? missingStub() ?? missingChromium();

let server;
let browser;
let stub;

before(async () => {
  if (prerequisite) return;
  [server, browser, stub] = await Promise.all([
    servePackage({ pages: { [PAGE_PATH]: PAGE } }),
    launchChromium({ timeout: STEP_TIMEOUT_MS * 2 }),
    startStub(),
  ]);
});

after(async () => {
  await browser?.close().catch(() => {});
  await stub?.stop().catch(() => {});
  await server?.close();
});

/** A fresh page with consult-client/slim loaded; `errors` collects uncaught page errors. */
async function openSlimPage() {
  if (prerequisite) throw prerequisite;
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(String(error?.stack ?? error)));
  await page.goto(server.origin + PAGE_PATH, { timeout: STEP_TIMEOUT_MS });
  await page.waitForFunction(() => window.__ready || window.__initError, null, { timeout: STEP_TIMEOUT_MS });
  const initError = await page.evaluate(() => window.__initError);
  if (initError) throw new Error(`consult-client/slim did not load: ${initError}`);
  const run = (what, fn, arg) => withTimeout(page.evaluate(fn, arg), STEP_TIMEOUT_MS, what);
  return { context, page, errors, run };
}

/** In the page: `window[name]` = a client of `entry` (window.slim or window.main), memory storage. */
function makeClient(run, name, entry) {
  return run(
    `new ${entry}.ConsultClient`,
    ([name, entry, baseUrl]) => {
      window[name] = new window[entry].ConsultClient({ baseUrl, storage: "memory", crossTab: false });
    },
    [name, entry, stub.url],
  );
}

/** In the page: signs `window[name]` in with `grant` and asks for a valid token. */
function signInAndGetToken(run, name, grant) {
  return run(
    "setSession + getValidToken",
    async ([name, grant]) => {
      const client = window[name];
      await client.setSession(grant);
      const token = await client.getValidToken();
      return { token, refreshCount: client.tokenInfo()?.refreshCount ?? null };
    },
    [name, grant],
  );
}

const user = () => "slim-" + Math.random().toString(36).slice(2, 10);

test("consult-client/slim alone: only its core is fetched, a sign-in refreshes, no video session", { timeout: 60_000 }, async () => {
  const { context, errors, run } = await openSlimPage();
  try {
    assert.deepEqual(await run("wasm fetched", () => window.__wasm), ["consult_client_slim_bg.wasm"], "only the slim core is downloaded");

    const expired = await stub.mintToken({ user_id: user(), ttl_secs: -60 });
    const before = (await stub.stats()).refresh_ok;
    await makeClient(run, "client", "slim");
    const { token, refreshCount } = await signInAndGetToken(run, "client", expired);
    assert.notEqual(token, expired.access_token, "the expired token was refreshed");
    assert.equal(refreshCount, 1, "one refresh");
    assert.equal((await stub.stats()).refresh_ok - before, 1, "the stub saw one refresh");

    const video = await run("connectVideoSession", () => {
      try {
        window.client.connectVideoSession({ sessionId: "s-1", roomId: "room-s-1", userId: "u", role: "PATIENT" });
        return { threw: false };
      } catch (error) {
        return { threw: true, type: error?.constructor?.name, message: String(error?.message) };
      }
    });
    assert.equal(video.threw, true, "connectVideoSession throws in consult-client/slim");
    assert.equal(video.type, "TypeError", "a TypeError: the wrong entry is a programming error");
    assert.match(video.message, /consult-client\/slim.*import "consult-client"/, "the message says which entry to import");
    assert.deepEqual(errors, [], "no uncaught error in the page");
  } finally {
    await context.close();
  }
});

test("both entries in one page: a client made with the slim core keeps working and joins the room with the main core", { timeout: 60_000 }, async () => {
  const { context, errors, run } = await openSlimPage();
  try {
    const id = user();
    const expired = await stub.mintToken({ user_id: id, ttl_secs: -60 });
    const session = await stub.createSession({ participants: [id] });
    // Made before the main entry is imported: its token machine lives in the slim core.
    await makeClient(run, "early", "slim");
    await run("import the main entry", () => window.__importMain().then(() => undefined));
    assert.deepEqual(
      (await run("wasm fetched", () => window.__wasm)).sort(),
      ["consult_client_bg.wasm", "consult_client_slim_bg.wasm"],
      "each entry downloads its own core",
    );
    assert.equal(await run("same class", () => window.slim.ConsultClient === window.main.ConsultClient), true, "one driver: the same ConsultClient");

    const { token, refreshCount } = await signInAndGetToken(run, "early", expired);
    assert.notEqual(token, expired.access_token, "the early client refreshed the expired token after the main core was bound");
    assert.equal(refreshCount, 1, "one refresh");

    const joined = await run(
      "the early client's video session joins",
      ([options]) =>
        new Promise((settle) => {
          const room = window.early.connectVideoSession(options);
          room.on("state", ({ state, reason }) => {
            if (state === "joined" || state === "closed") {
              settle(state === "joined" ? "joined" : "closed: " + reason);
              room.disconnect(); // its own "closed" event comes after: the first settle counts
            }
          });
        }),
      [{ sessionId: session.session_id, roomId: session.room_id, userId: id, role: "PATIENT" }],
    );
    assert.equal(joined, "joined", "the room is joined with the main core's socket machine");
    assert.deepEqual(errors, [], "no uncaught error in the page");
  } finally {
    await context.close();
  }
});
