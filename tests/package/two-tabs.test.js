// Cross-tab coordination of the built npm package (target/pkg, its browser entry) with
// REAL tabs: one headless Chromium context (Debian's /usr/bin/chromium through playwright-core),
// two pages of the same origin — so they share localStorage, Web Locks and BroadcastChannel —
// each importing the package and creating `new ConsultClient({ baseUrl, autoRefresh: false })`
// with the defaults (storage "local", keys authToken/tokenExpiresAt, crossTab true), against a
// real consult-stub. The pages are served by a tiny static server on 127.0.0.1 (another port than
// the stub: cross-origin, the stub answers CORS). Build the package first:
// scripts/build-package.sh (scripts/test-package.sh does).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { startStub } from "../interop/stub.js";
import { launchChromium, missingChromium, withTimeout } from "../support/browser.mjs";
import { missingPackage, openPackagePage, packagePage, servePackage, short, storeToken } from "../support/package-page.mjs";

const PAGE_PATH = "/two-tabs.html";
const REFRESH_PATH = "/api/video/auth/refresh-token";

const TEST_TIMEOUT_MS = 45_000;
const STEP_TIMEOUT_MS = 15_000; // any single page load / evaluation
const ADOPT_WITHIN_MS = 3_000; // test 3: the other tab adopts the new token within this
const START_DELAY_MS = 150; // both tabs call at the same wall-clock instant, this far ahead

// The page: loads the package, counts its own fetches (so a test can tell which tab sent a
// refresh) and exposes the constructor; the tests create the clients through page.evaluate.
const PAGE = packagePage({
  title: "two tabs",
  script: `window.__fetches = [];
const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = (input, init) => {
  window.__fetches.push({ url: String(input?.url ?? input), at: performance.timeOrigin + performance.now() });
  return realFetch(input, init);
};
window.__tokenChanges = [];`,
});

/** A missing package (or browser) is an error every test reports, not a crash of the file. */
const prerequisite = missingPackage() ?? missingChromium();

let server; // the static server of PAGE and the package files (servePackage)
let browser;
const stubs = [];

before(async () => {
  if (prerequisite) return;
  server = await servePackage({ pages: { [PAGE_PATH]: PAGE } });
  browser = await launchChromium({ timeout: STEP_TIMEOUT_MS * 2 });
});

after(async () => {
  await browser?.close().catch(() => {});
  await Promise.all(stubs.map((stub) => stub.stop()));
  await server?.close();
});

async function newStub(args = []) {
  const stub = await startStub(args);
  stubs.push(stub);
  return stub;
}

async function refreshStats(stub) {
  const { refresh_ok, refresh_rejected } = await stub.stats();
  return { ok: refresh_ok, rejected: refresh_rejected };
}

/**
 * One browser context (fresh storage) with two tabs of the same origin, the package loaded in
 * both. `errors` collects page errors and console errors, for the failure messages.
 */
async function openTwoTabs() {
  if (prerequisite) throw prerequisite;
  const context = await browser.newContext();
  const errors = [];
  const open = (name) => openPackagePage(context, server.origin + PAGE_PATH, { timeout: STEP_TIMEOUT_MS, name, errors });
  const a = await open("tab A");
  const b = await open("tab B");
  return { context, a, b, errors };
}

/** Creates the tab's client (package defaults but autoRefresh: false) and records tokenChanged. */
function createClient(page, baseUrl) {
  return withTimeout(
    page.evaluate((baseUrl) => {
      window.client = new window.__ConsultClient({ baseUrl, autoRefresh: false });
      window.client.on("tokenChanged", (info) => {
        window.__tokenChanges.push({ at: performance.timeOrigin + performance.now(), token: info?.token ?? null });
      });
    }, baseUrl),
    STEP_TIMEOUT_MS,
    "creating the client",
  );
}

function readStorage(page) {
  return page.evaluate(() => ({
    token: localStorage.getItem("authToken"),
    expiresAt: localStorage.getItem("tokenExpiresAt"),
  }));
}

/**
 * Calls `client[method]()` in the tab at the wall-clock instant `startAt` (Unix ms; both tabs
 * share the clock), and reports what happened: the token or the error, timings, and how many
 * refresh requests this tab sent.
 */
function callAt(page, method, startAt) {
  return page.evaluate(
    async ([method, startAt, refreshPath]) => {
      const now = () => performance.timeOrigin + performance.now();
      const fetchesBefore = window.__fetches.length;
      await new Promise((done) => setTimeout(done, Math.max(0, startAt - now())));
      const startedAt = now();
      let token = null;
      let error = null;
      try {
        token = await window.client[method]();
      } catch (e) {
        error = `${e?.name} ${e?.code ?? ""} ${e?.status ?? ""}: ${e?.message ?? e}`;
      }
      const endedAt = now();
      const refreshRequests = window.__fetches
        .slice(fetchesBefore)
        .filter((f) => f.url.includes(refreshPath))
        .map((f) => Math.round(f.at - startedAt));
      return {
        token,
        error,
        startedAt,
        endedAt,
        refreshRequests,
        refreshCount: window.client.tokenInfo()?.refreshCount ?? null,
      };
    },
    [method, startAt, REFRESH_PATH],
  );
}

function describe(name, r) {
  return (
    `${name}: ${r.error ? `error ${r.error}` : `token ${short(r.token)}`}, ` +
    `started ${Math.round(r.startedAt % 100_000)} ms, took ${Math.round(r.endedAt - r.startedAt)} ms, ` +
    `refresh requests sent at +[${r.refreshRequests.join(", ")}] ms, refreshCount ${r.refreshCount}`
  );
}

/** Tests 1 and 2: an expired stored token, getValidToken() in both tabs at once. */
async function concurrentExpired(t, stub, label) {
  const { context, a, b, errors } = await openTwoTabs();
  try {
    const expired = await stub.mintToken({ user_id: `patient-two-tabs-${label}`, ttl_secs: -60 });
    await storeToken(a, expired);
    await createClient(a, stub.url);
    await createClient(b, stub.url);

    const before = await refreshStats(stub);
    const startAt = Date.now() + START_DELAY_MS;
    // Both evaluations are under way before either is awaited.
    const inA = callAt(a, "getValidToken", startAt);
    const inB = callAt(b, "getValidToken", startAt);
    const [ra, rb] = await withTimeout(Promise.all([inA, inB]), STEP_TIMEOUT_MS, "getValidToken() in both tabs");
    const after = await refreshStats(stub);
    const delta = { ok: after.ok - before.ok, rejected: after.rejected - before.rejected };

    const story =
      `\n  ${describe("tab A", ra)}\n  ${describe("tab B", rb)}` +
      `\n  expired token ${short(expired.access_token)}; stub refresh_ok +${delta.ok}, refresh_rejected +${delta.rejected}` +
      `\n  start skew between tabs ${Math.round(Math.abs(ra.startedAt - rb.startedAt))} ms` +
      (errors.length ? `\n  page errors/warnings:\n    ${errors.join("\n    ")}` : "");

    assert.equal(ra.error, null, `tab A's getValidToken() rejected${story}`);
    assert.equal(rb.error, null, `tab B's getValidToken() rejected${story}`);
    assert.equal(delta.ok, 1, `expected exactly 1 successful refresh at the stub${story}`);
    assert.equal(delta.rejected, 0, `expected no rejected refresh at the stub${story}`);
    assert.equal(ra.token, rb.token, `both tabs should hold the same token${story}`);
    assert.notEqual(ra.token, expired.access_token, `the expired token was returned${story}`);
    assert.equal(
      ra.refreshRequests.length + rb.refreshRequests.length,
      1,
      `expected exactly 1 refresh request sent by the two tabs together${story}`,
    );

    const stored = await readStorage(a);
    assert.equal(stored.token, ra.token, `localStorage (authToken) holds the new token${story}`);
    assert.ok(
      Date.parse(stored.expiresAt) > Date.now() + 3 * 3600_000,
      `localStorage (tokenExpiresAt) holds the new expiry, got ${stored.expiresAt}${story}`,
    );
    assert.deepEqual(await readStorage(b), stored, "both tabs see the same localStorage");
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
  } finally {
    await context.close().catch(() => {});
  }
}

test("two tabs, an expired stored token, getValidToken() in both at once -> exactly 1 refresh", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const stub = await newStub();
  await concurrentExpired(t, stub, "default-window");
});

test("two tabs against a stub with --reuse-window 0s (a duplicate refresh would be rejected) -> exactly 1 refresh, none rejected", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const stub = await newStub(["--reuse-window", "0s"]);
  await concurrentExpired(t, stub, "no-reuse-window");
});

test("a refresh in tab A reaches tab B over BroadcastChannel/storage, without a request from B", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const stub = stubs[0] ?? (await newStub());
  const { context, a, b, errors } = await openTwoTabs();
  try {
    const valid = await stub.mintToken({ user_id: "patient-two-tabs-broadcast", ttl_secs: 3600 });
    await storeToken(a, valid);
    await createClient(a, stub.url);
    await createClient(b, stub.url);

    // Both tabs load the stored (valid) token: no refresh.
    const loaded = await refreshStats(stub);
    const [la, lb] = await withTimeout(
      Promise.all([callAt(a, "getValidToken", 0), callAt(b, "getValidToken", 0)]),
      STEP_TIMEOUT_MS,
      "loading the stored token in both tabs",
    );
    assert.equal(la.token, valid.access_token, `tab A loaded the stored token: ${describe("tab A", la)}`);
    assert.equal(lb.token, valid.access_token, `tab B loaded the stored token: ${describe("tab B", lb)}`);
    assert.equal((await refreshStats(stub)).ok, loaded.ok, "a valid token is not refreshed");

    const before = await refreshStats(stub);
    const bFetchesBefore = await b.evaluate(() => window.__fetches.length);
    const ra = await withTimeout(callAt(a, "refreshAuthToken", 0), STEP_TIMEOUT_MS, "refreshAuthToken() in tab A");
    assert.equal(ra.error, null, `tab A's refreshAuthToken() rejected: ${describe("tab A", ra)}`);
    assert.notEqual(ra.token, valid.access_token, "refreshAuthToken() returned a new token");

    // Tab B is not called: it must learn the new token by itself.
    const adoption = await withTimeout(
      b.evaluate(
        async ([expected, withinMs]) => {
          const t0 = performance.now();
          while (performance.now() - t0 < withinMs) {
            if (window.client.tokenInfo()?.token === expected) break;
            await new Promise((done) => setTimeout(done, 10));
          }
          return {
            token: window.client.tokenInfo()?.token ?? null,
            polledMs: Math.round(performance.now() - t0),
            changes: window.__tokenChanges,
          };
        },
        [ra.token, ADOPT_WITHIN_MS],
      ),
      ADOPT_WITHIN_MS + STEP_TIMEOUT_MS,
      "waiting for tab B to adopt the token",
    );
    const after = await refreshStats(stub);
    const bFetches = await b.evaluate((from) => window.__fetches.slice(from), bFetchesBefore);
    const changed = adoption.changes.find((c) => c.token === ra.token);
    const story =
      `\n  ${describe("tab A", ra)}` +
      `\n  tab B holds ${short(adoption.token)} after polling ${adoption.polledMs} ms; ` +
      `tokenChanged in B: ${adoption.changes.map((c) => `${short(c.token)} at ${Math.round(c.at - ra.endedAt)} ms after A's call ended`).join("; ") || "none"}` +
      `\n  tab B's requests meanwhile: ${bFetches.map((f) => f.url).join(", ") || "none"}` +
      `\n  stub refresh_ok +${after.ok - before.ok}, refresh_rejected +${after.rejected - before.rejected}` +
      (errors.length ? `\n  page errors/warnings:\n    ${errors.join("\n    ")}` : "");

    assert.equal(adoption.token, ra.token, `tab B did not adopt tab A's new token within ${ADOPT_WITHIN_MS} ms${story}`);
    assert.ok(changed, `tab B fired tokenChanged with the new token${story}`);
    assert.deepEqual(bFetches, [], `tab B sent no request${story}`);
    assert.equal(after.ok - before.ok, 1, `exactly 1 refresh at the stub${story}`);
    assert.equal(after.rejected - before.rejected, 0, `no rejected refresh${story}`);
    const stored = await readStorage(b);
    assert.equal(stored.token, ra.token, "localStorage holds the new token");
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
  } finally {
    await context.close().catch(() => {});
  }
});
