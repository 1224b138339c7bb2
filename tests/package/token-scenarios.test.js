// Token-lifecycle and polling scenarios 4–8 of the built npm package (its browser entry,
// target/pkg) in REAL headless Chromium pages (Debian's /usr/bin/chromium through
// playwright-core), against the real consult-stub. Ported from the Rust browser tests
// crates/consult-client/tests/token_lifecycle.rs and polling.rs; only the package's public API
// (consult_client.d.ts) is used, and every test asserts what can be
// observed from outside: the stub's counters (GET /api/dev/stats), localStorage, the client's
// events, the error `code`s, the poller's callbacks.
//
// Each test gets a fresh browser context (empty localStorage, time zone UTC+14) with one page
// that loads the package; the page is served by a tiny static server on 127.0.0.1 (cross-origin
// to the stub, which answers CORS). The page wraps globalThis.fetch before loading the package to
// time its requests (polling overlap, abort). Build the package first: scripts/build-package.sh
// (scripts/test-package.sh does) and the stub: cargo build -p consult-stub.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

import { startStub } from "../interop/stub.js";
import { launchChromium, missingChromium, withTimeout } from "../support/browser.mjs";
import { loadPackagePage, missingPackage, missingStub, packagePage, servePackage } from "../support/package-page.mjs";

const PAGE_PATH = "/token-scenarios.html";
const SESSIONS_PATH = "/api/video/sessions/";

const TEST_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 15_000; // any single page load / evaluation
const HOUR_MS = 3_600_000;
// Every page runs in UTC+14 (no daylight saving): a naive "2026-01-26T08:00:00" read as local
// time instead of UTC would be 14 hours off, which the scenario 4 tests would see.
const PAGE_TIMEZONE = "Pacific/Kiritimati";
// A JWT-shaped token without `exp` (the client can only know its expiry from expires_at).
const NO_EXP_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig";

// The page: loads the package and exposes the constructor plus a few helpers the tests use
// through page.evaluate. It logs its own fetches (start and end times), so a test can tell when
// requests were sent and whether two of them overlapped; everything else is observed through the
// public API.
const PAGE = packagePage({
  title: "token scenarios",
  script: `const now = () => performance.timeOrigin + performance.now();
window.__fetches = [];
const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = (input, init) => {
  const entry = {
    url: String(input?.url ?? input),
    method: String(init?.method ?? input?.method ?? "GET").toUpperCase(),
    start: now(),
    end: null,
  };
  window.__fetches.push(entry);
  const answer = realFetch(input, init);
  answer.then(() => { entry.end = now(); }, () => { entry.end = now(); });
  return answer;
};
window.__now = now;
window.__sleep = (ms) => new Promise((done) => setTimeout(done, ms));
/** A ConsultError (or anything thrown) as plain data. */
window.__error = (e) => ({
  name: e?.name ?? null,
  code: e?.code ?? null,
  status: e?.status ?? null,
  retryable: e?.retryable ?? null,
  message: String(e?.message ?? e),
});
/** { ok: true, value } or { ok: false, error }, never a rejection. */
window.__settle = async (promise) => {
  try {
    return { ok: true, value: await promise };
  } catch (e) {
    return { ok: false, error: window.__error(e) };
  }
};
/** Records every event of the client as "name" or "name:CODE" (for ConsultError payloads). */
window.__record = (client) => {
  const log = [];
  for (const name of ["tokenRefreshed", "refreshFailed", "sessionExpired", "tokenChanged", "warning"]) {
    client.on(name, (payload) => log.push(payload && typeof payload.code === "string" ? name + ":" + payload.code : name));
  }
  return log;
};
/** Starts pollSession and records its callbacks (with times) in window.__poll. */
window.__startPoll = (client, sessionId, intervalMs) => {
  const seen = { updates: [], errors: [], end: null, endAt: null, startedAt: now() };
  window.__poll = seen;
  window.__poller = client.pollSession(sessionId, {
    intervalMs,
    onUpdate: (s) => seen.updates.push({ status: s.status, version: s.version, at: now() }),
    onError: (e) => seen.errors.push({ code: e?.code ?? null, status: e?.status ?? null, at: now() }),
    onEnd: (reason) => { seen.end = reason; seen.endAt = now(); },
  });
  return seen;
};`,
});

/** A missing package, stub binary or browser is an error every test reports, not a crash of the file. */
const prerequisite = missingPackage() ?? missingStub() ?? missingChromium();

let server; // the static server of PAGE and the package files
let browser;
let mainStub; // shared by the tests that do not need a stub of their own
const stubs = new Set(); // every stub still running, stopped in after()

before(async () => {
  if (prerequisite) return;
  [server, browser, mainStub] = await Promise.all([
    servePackage({ pages: { [PAGE_PATH]: PAGE } }),
    launchChromium({ timeout: STEP_TIMEOUT_MS * 2 }),
    newStub(),
  ]);
});

after(async () => {
  await browser?.close().catch(() => {});
  await Promise.all([...stubs].map((stub) => stub.stop().catch(() => {})));
  await server?.close();
});

async function newStub(args = [], fixed = {}) {
  const stub = await startStub(args, fixed);
  stubs.add(stub);
  return stub;
}

/** Kills the stub's process (SIGKILL, by its pid: the server is gone at once) and waits for it. */
async function killStub(stub) {
  try {
    process.kill(stub.pid, "SIGKILL");
  } catch {
    // already gone
  }
  await stub.stop();
  stubs.delete(stub);
}

function setFault(stub, spec) {
  return stub.request("POST", "/api/dev/faults", { body: spec, expect: 204 });
}

function clearFaults(stub) {
  return stub.request("DELETE", "/api/dev/faults", { expect: 204 });
}

/** The `jti` claim of a JWT. */
function jti(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")).jti;
}

/** The seed's naive expiry format ("2026-01-26T08:00:00", UTC without a zone) for `at` (Unix ms). */
function naive(at) {
  return new Date(at).toISOString().slice(0, 19);
}

function sleep(ms) {
  return new Promise((done) => setTimeout(done, ms));
}

/** Waits (polling every 50 ms) until `condition()` (sync or async) is truthy; fails after `ms`. */
async function until(what, condition, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

function countOf(log, entry) {
  return log.filter((e) => e === entry).length;
}

/**
 * A fresh browser context (empty storage, PAGE_TIMEZONE) with one page that has loaded the package.
 * `errors` collects uncaught page errors (a crash of the package shows up there).
 */
async function openPage() {
  if (prerequisite) throw prerequisite;
  const context = await browser.newContext({ timezoneId: PAGE_TIMEZONE });
  const errors = [];
  const page = await context.newPage();
  page.on("pageerror", (error) => errors.push(`pageerror: ${error?.stack ?? error}`));
  await loadPackagePage(page, server.origin + PAGE_PATH, { timeout: STEP_TIMEOUT_MS });
  /** page.evaluate bounded by STEP_TIMEOUT_MS (or `ms`). */
  const run = (what, fn, arg, ms = STEP_TIMEOUT_MS) => withTimeout(page.evaluate(fn, arg), ms, what);
  /** Waits in the page until `fn(arg)` is truthy. */
  const waitIn = (what, fn, arg, ms = STEP_TIMEOUT_MS) =>
    page.waitForFunction(fn, arg, { timeout: ms, polling: 50 }).catch((error) => {
      throw new Error(`timed out waiting in the page for ${what}: ${error.message.split("\n")[0]}`);
    });
  return { context, page, errors, run, waitIn };
}

/** Runs `body(tab)` in a fresh page, closing its context afterwards and reporting page errors. */
async function inFreshPage(body) {
  const tab = await openPage();
  try {
    await body(tab);
    assert.deepEqual(tab.errors, [], "no uncaught error in the page");
  } finally {
    await tab.context.close().catch(() => {});
  }
}

/**
 * `new ConsultClient(options)` in the page as window.client, recording its events in
 * window.events. `options` is plain data plus `nowOffsetMs` (the `now` option: Date.now() +
 * offset) and `throwingStorage` (a StorageAdapter whose setItem throws QuotaExceededError).
 */
function createClient(tab, options) {
  return tab.run(
    "creating the client",
    (options) => {
      const { nowOffsetMs, throwingStorage, ...rest } = options;
      if (nowOffsetMs !== undefined) rest.now = () => Date.now() + nowOffsetMs;
      if (throwingStorage) {
        rest.storage = {
          getItem() {
            return null;
          },
          setItem() {
            throw new DOMException("full", "QuotaExceededError");
          },
          removeItem() {},
        };
      }
      window.client = new window.__ConsultClient(rest);
      window.events = window.__record(window.client);
    },
    options,
  );
}

/** Calls `client[method](...args)` in the page: { ok, value } or { ok: false, error }. */
function call(tab, method, ...args) {
  return tab.run(`client.${method}()`, ([method, args]) => window.__settle(window.client[method](...args)), [method, args]);
}

function events(tab) {
  return tab.run("reading the events", () => window.events.slice());
}

function tokenInfo(tab) {
  return tab.run("tokenInfo()", () => window.client.tokenInfo() ?? null);
}

function storeToken(tab, token, expiresAt, keys = { token: "authToken", expiresAt: "tokenExpiresAt" }) {
  return tab.run(
    "writing localStorage",
    ([token, expiresAt, keys]) => {
      localStorage.setItem(keys.token, token);
      localStorage.setItem(keys.expiresAt, expiresAt);
    },
    [token, expiresAt, keys],
  );
}

function readStorage(tab, keys = { token: "authToken", expiresAt: "tokenExpiresAt" }) {
  return tab.run(
    "reading localStorage",
    (keys) => ({ token: localStorage.getItem(keys.token), expiresAt: localStorage.getItem(keys.expiresAt) }),
    keys,
  );
}

function describeResult(r) {
  return r.ok ? `resolved …${String(r.value).slice(-12)}` : `rejected ${r.error.code} ${r.error.status ?? ""}: ${r.error.message}`;
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: expiry from the token's exp, whatever expires_at or the device clock say.

test("scenario 4: a naive expires_at (1 min) on a 4 h token is not trusted over exp: no refresh", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    const { access_token: token } = await stub.mintToken({ user_id: "p-naive", ttl_secs: 4 * 3600 });
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false });
    // The seed's naive format, claiming expiry in one minute (inside the 5 min margin).
    const set = await call(tab, "setSession", { access_token: token, expires_at: naive(Date.now() + 60_000) });
    assert.equal(set.ok, true, `setSession: ${describeResult(set)}`);
    const before = (await stub.stats()).refresh_ok;

    const got = await call(tab, "getValidToken");

    assert.equal(got.ok, true, `getValidToken: ${describeResult(got)}`);
    assert.equal(got.value, token, "the 4 h token is returned as is");
    const info = await tokenInfo(tab);
    const remaining = info.expiresAt - Date.now();
    assert.ok(remaining > 3.9 * HOUR_MS, `expiry follows exp: ${remaining} ms left`);
    assert.equal((await stub.stats()).refresh_ok - before, 0, "no refresh request");
  });
});

test("scenario 4: a naive expires_at in storage (1 min) on a 4 h token: a new client follows exp, no refresh", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    const { access_token: token } = await stub.mintToken({ user_id: "p-naive-stored", ttl_secs: 4 * 3600 });
    await storeToken(tab, token, naive(Date.now() + 60_000));
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false });
    const before = (await stub.stats()).refresh_ok;

    const got = await call(tab, "getValidToken");

    assert.equal(got.ok, true, `getValidToken: ${describeResult(got)}`);
    assert.equal(got.value, token);
    const remaining = (await tokenInfo(tab)).expiresAt - Date.now();
    assert.ok(remaining > 3.9 * HOUR_MS, `expiry follows exp: ${remaining} ms left`);
    assert.equal((await stub.stats()).refresh_ok - before, 0, "no refresh request");
    assert.equal((await readStorage(tab)).token, token, "storage still holds the token");
  });
});

test("scenario 4: a naive expires_at 4 h ahead on a token whose exp has passed: refreshed once", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    const { access_token: expired } = await stub.mintToken({ user_id: "p-naive-expired", ttl_secs: -60 });
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false });
    const before = (await stub.stats()).refresh_ok;
    const set = await call(tab, "setSession", { access_token: expired, expires_at: naive(Date.now() + 4 * HOUR_MS) });
    assert.equal(set.ok, true, `setSession: ${describeResult(set)}`);

    const got = await call(tab, "getValidToken");

    assert.equal(got.ok, true, `getValidToken: ${describeResult(got)}`);
    assert.notEqual(got.value, expired, "the expired token (exp past) was returned");
    assert.equal((await stub.stats()).refresh_ok - before, 1, "exactly one refresh");
  });
});

test("scenario 4: without exp, a naive expires_at is read as UTC, never local time (page in UTC+14)", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    const zone = await tab.run("the page's zone", () => new Date().getTimezoneOffset());
    assert.equal(zone, -14 * 60, "the page runs in UTC+14");
    const at = Date.now() + HOUR_MS; // one hour ahead, UTC
    const expected = Math.floor(at / 1000) * 1000; // the naive format has whole seconds
    const before = await stub.stats();

    // setSession: the token has no exp, so its expiry is the naive expires_at, read as UTC.
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false });
    const set = await call(tab, "setSession", { access_token: NO_EXP_TOKEN, expires_at: naive(at) });
    assert.equal(set.ok, true, `setSession: ${describeResult(set)}`);
    const got = await call(tab, "getValidToken");
    assert.equal(got.ok, true, `getValidToken after setSession: ${describeResult(got)}`);
    assert.equal(got.value, NO_EXP_TOKEN, "valid for an hour: returned without a refresh");
    assert.equal((await tokenInfo(tab)).expiresAt, expected, "expiresAt is the naive time read as UTC");
    const stored = await readStorage(tab);
    assert.equal(Date.parse(stored.expiresAt), expected, `stored expiry ${stored.expiresAt}`);
    assert.match(stored.expiresAt, /Z$/, "the stored expiry is RFC 3339 UTC");

    // Storage: a new client reads the seed's naive value as UTC too.
    const keys = { token: "naive-utc-token", expiresAt: "naive-utc-exp" };
    await storeToken(tab, NO_EXP_TOKEN, naive(at), keys);
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false, storageKeys: keys });
    const loaded = await call(tab, "getValidToken");
    assert.equal(loaded.ok, true, `getValidToken from storage: ${describeResult(loaded)}`);
    assert.equal(loaded.value, NO_EXP_TOKEN);
    assert.equal((await tokenInfo(tab)).expiresAt, expected, "the stored naive time is read as UTC");

    const after = await stub.stats();
    assert.equal(after.refresh_ok + after.refresh_rejected + after.refresh_faulted, before.refresh_ok + before.refresh_rejected + before.refresh_faulted, "no refresh request");
  });
});

async function oneRefreshPerLifetime(offsetMs) {
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    // A 4 s token: due at half-life (2 s), whatever the device clock says.
    const grant = await stub.mintToken({ user_id: "p-offset", ttl_secs: 4 });
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false, nowOffsetMs: offsetMs });
    const set = await call(tab, "setSession", grant);
    assert.equal(set.ok, true, `setSession: ${describeResult(set)}`);
    const before = (await stub.stats()).refresh_ok;

    const first = await call(tab, "getValidToken");
    assert.equal(first.ok, true, `first getValidToken: ${describeResult(first)}`);
    assert.equal(first.value, grant.access_token, `fresh token not refreshed (offset ${offsetMs})`);
    assert.equal((await stub.stats()).refresh_ok - before, 0, `no refresh while fresh (offset ${offsetMs})`);

    await sleep(2_300); // past half of the 4 s lifetime: the token is now due
    const second = await call(tab, "getValidToken");
    const third = await call(tab, "getValidToken");

    assert.equal(second.ok, true, `second getValidToken: ${describeResult(second)}`);
    assert.equal(third.ok, true, `third getValidToken: ${describeResult(third)}`);
    assert.notEqual(second.value, grant.access_token, "the due token was refreshed");
    assert.equal(third.value, second.value, "the new token is not refreshed again at once");
    assert.equal((await stub.stats()).refresh_ok - before, 1, `one refresh per lifetime (offset ${offsetMs})`);
    const skew = (await tokenInfo(tab)).skewMs;
    assert.ok(Math.abs(skew + offsetMs) < 5_000, `skewMs ${skew} reflects the ${offsetMs} ms device offset`);
  });
}

test("scenario 4: a device clock 1 h fast (now option) still refreshes once per token lifetime", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  await oneRefreshPerLifetime(HOUR_MS);
});

test("scenario 4: a device clock 1 h slow (now option) still refreshes once per token lifetime", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  await oneRefreshPerLifetime(-HOUR_MS);
});

// ---------------------------------------------------------------------------------------------
// Scenario 5: refresh faults.

/**
 * An expired stored token, the refresh endpoint failing `times` times with `status`, then
 * getValidToken(): the caller gets a new token after the retries, one refreshFailed per failed
 * attempt, no sessionExpired, the new token stored.
 */
async function refreshThroughFaults(user, status, times) {
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    const expired = await stub.mintToken({ user_id: user, ttl_secs: -30 });
    await storeToken(tab, expired.access_token, expired.expires_at);
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false });
    await setFault(stub, { target: "refresh", fail_next: times, status });
    const before = await stub.stats();

    let got;
    try {
      got = await call(tab, "getValidToken");
    } finally {
      await clearFaults(stub);
    }

    const after = await stub.stats();
    const log = await events(tab);
    const story = ` (${describeResult(got)}; events ${JSON.stringify(log)})`;
    assert.equal(got.ok, true, `getValidToken failed${story}`);
    assert.notEqual(got.value, expired.access_token);
    assert.equal(after.refresh_faulted - before.refresh_faulted, times, `${times} faulted attempts${story}`);
    assert.equal(after.refresh_ok - before.refresh_ok, 1, `then one successful refresh${story}`);
    assert.equal(after.refresh_rejected - before.refresh_rejected, 0, `nothing rejected${story}`);
    assert.equal(countOf(log, "refreshFailed:HTTP"), times, `refreshFailed (HTTP) per failed attempt${story}`);
    assert.equal(countOf(log, "tokenRefreshed"), 1, `tokenRefreshed once${story}`);
    assert.equal(log.filter((e) => e.startsWith("sessionExpired")).length, 0, `no sessionExpired${story}`);
    assert.equal((await readStorage(tab)).token, got.value, "the sign-in is kept, with the new token stored");
  });
}

test("scenario 5: refresh 503 twice, then OK -> succeeds after backoff, no sessionExpired", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  await refreshThroughFaults("p-faults", 503, 2);
});

test("a refresh answered 403 (a proxy or WAF) is a failure with backoff, never a sign-out", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  await refreshThroughFaults("p-forbidden", 403, 1);
});

test("the token goes only to baseUrl's origin: another origin is refused before anything is sent", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    const valid = await stub.mintToken({ user_id: "p-origin", ttl_secs: 3600 });
    await storeToken(tab, valid.access_token, valid.expires_at);
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false });
    const other = stub.url.replace("127.0.0.1", "localhost");
    const r = await tab.run("client.fetch(another origin)", async (url) => {
      const from = window.__fetches.length;
      const settled = await window.__settle(window.client.fetch(url));
      return { ...settled, sent: window.__fetches.length - from };
    }, other + "/api/dev/whoami");
    assert.equal(r.ok, false, `fetch to ${other} must reject: ${describeResult(r)}`);
    assert.equal(r.error.code, "ORIGIN_NOT_ALLOWED", describeResult(r));
    assert.equal(r.sent, 0, "no request left the page");
  });
});

test("scenario 5: refresh answered 401 -> sessionExpired once, storage cleared, calls reject REFRESH_REJECTED", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    const expired = await stub.mintToken({ user_id: "p-refused", ttl_secs: -30 });
    // Revoke the sign-in: the refresh endpoint will answer 401 session_revoked.
    await stub.logout(expired.access_token);
    await storeToken(tab, expired.access_token, expired.expires_at);
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false });
    const before = await stub.stats();

    const first = await call(tab, "getValidToken");
    const second = await call(tab, "getValidToken");
    const forced = await call(tab, "refreshAuthToken");

    const after = await stub.stats();
    const log = await events(tab);
    const story = ` (events ${JSON.stringify(log)})`;
    for (const [name, r] of Object.entries({ first, second, forced })) {
      assert.equal(r.ok, false, `${name} call should reject: ${describeResult(r)}`);
      assert.equal(r.error.code, "REFRESH_REJECTED", `${name} call: ${describeResult(r)}`);
      assert.equal(r.error.name, "ConsultError", `${name} call: error name`);
    }
    assert.equal(first.error.status, 401, "the refusal's status");
    assert.equal(log.filter((e) => e.startsWith("sessionExpired")).length, 1, `sessionExpired fired once${story}`);
    assert.equal(countOf(log, "sessionExpired:REFRESH_REJECTED"), 1, `sessionExpired carries REFRESH_REJECTED${story}`);
    assert.equal(after.refresh_rejected - before.refresh_rejected, 1, "one refused request, no further ones");
    assert.equal(after.refresh_ok - before.refresh_ok, 0);
    assert.deepEqual(await readStorage(tab), { token: null, expiresAt: null }, "storage cleared");
    assert.equal(await tokenInfo(tab), null, "no current token");
  });
});

test("scenario 5: server down -> NETWORK, token kept; recovers when the server is back", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  // A stub of its own, restarted on the same port with the same secret.
  const secret = randomBytes(32).toString("hex");
  let stub = await newStub([], { secret });
  const port = Number(new URL(stub.url).port);
  await inFreshPage(async (tab) => {
    const expired = await stub.mintToken({ user_id: "p-down", ttl_secs: -30 });
    await storeToken(tab, expired.access_token, expired.expires_at);
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false, refreshRetries: 1 });
    await killStub(stub);

    const down = await call(tab, "getValidToken");
    const kept = await readStorage(tab);
    stub = await newStub([], { port, secret });
    const up = await call(tab, "getValidToken");

    const log = await events(tab);
    const story = ` (events ${JSON.stringify(log)})`;
    assert.equal(down.ok, false, `getValidToken with the server down: ${describeResult(down)}`);
    assert.equal(down.error.code, "NETWORK", `server down: ${describeResult(down)}`);
    assert.equal(down.error.retryable, true, "NETWORK is retryable");
    assert.equal(kept.token, expired.access_token, "token kept while the server is down");
    assert.equal(up.ok, true, `recovered after the server came back: ${describeResult(up)}${story}`);
    assert.notEqual(up.value, expired.access_token);
    assert.equal((await readStorage(tab)).token, up.value, "storage holds the new token");
    assert.equal((await stub.stats()).refresh_ok, 1, "the restarted stub refreshed once");
    assert.equal(log.filter((e) => e.startsWith("sessionExpired")).length, 0, `no sessionExpired${story}`);
    assert.ok(countOf(log, "refreshFailed:NETWORK") >= 1, `refreshFailed (NETWORK) reported${story}`);
  });
});

// ---------------------------------------------------------------------------------------------
// Scenario 6: a 401 on an authorised request.

test("scenario 6: client.fetch answered 401 -> one refresh, one replay with the new token, 200", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    // Stored token expired 30 s ago, but the device clock is 10 min slow: the client thinks it
    // is valid, the strict endpoint answers 401, the client refreshes once and replays.
    const expired = await stub.mintToken({ user_id: "p-replay", ttl_secs: -30 });
    await storeToken(tab, expired.access_token, expired.expires_at);
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false, nowOffsetMs: -600_000 });
    const before = await stub.stats();

    const r = await tab.run("client.fetch(/api/dev/whoami)", async () => {
      const from = window.__fetches.length;
      const settled = await window.__settle(
        window.client.fetch("/api/dev/whoami").then(async (response) => ({ status: response.status, body: await response.json() })),
      );
      const whoami = window.__fetches.slice(from).filter((f) => f.url.endsWith("/api/dev/whoami")).length;
      return { ...settled, whoami, token: window.client.tokenInfo()?.token ?? null };
    });

    const after = await stub.stats();
    assert.equal(r.ok, true, `client.fetch: ${describeResult(r)}`);
    assert.equal(r.value.status, 200, "the replay succeeded");
    assert.equal(after.refresh_ok - before.refresh_ok, 1, "exactly one refresh");
    assert.notEqual(r.token, expired.access_token, "the client holds a new token");
    assert.equal(r.value.body.jti, jti(r.token), "the replay carried the new token");
    assert.equal(r.whoami, 2, "the request and one replay");
  });
});

test("scenario 6: a request that keeps answering 401 is replayed once, never looped", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    const grant = await stub.mintToken({ user_id: "p-loop", ttl_secs: 3600 });
    const { session_id } = await stub.createSession({});
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false });
    const set = await call(tab, "setSession", grant);
    assert.equal(set.ok, true, `setSession: ${describeResult(set)}`);
    await setFault(stub, { target: "sessions", fail_next: 10, status: 401 });
    try {
      // client.fetch: the second 401 is returned as the answer.
      const s0 = await stub.stats();
      const viaFetch = await tab.run(
        "client.fetch(session) under 401s",
        (path) => window.__settle(window.client.fetch(path).then((response) => response.status)),
        SESSIONS_PATH + encodeURIComponent(session_id),
      );
      const s1 = await stub.stats();
      assert.equal(viaFetch.ok, true, `client.fetch: ${describeResult(viaFetch)}`);
      assert.equal(viaFetch.value, 401, "the replay's 401 is returned as is");
      assert.equal(s1.session_faulted - s0.session_faulted, 2, "client.fetch: the request and one replay");
      assert.equal(s1.refresh_ok - s0.refresh_ok, 1, "client.fetch: one refresh");

      // getSessionDetails: rejects HTTP 401 after the one replay.
      const viaDetails = await call(tab, "getSessionDetails", session_id);
      const s2 = await stub.stats();
      assert.equal(viaDetails.ok, false, `getSessionDetails: ${describeResult(viaDetails)}`);
      assert.equal(viaDetails.error.code, "HTTP", `getSessionDetails: ${describeResult(viaDetails)}`);
      assert.equal(viaDetails.error.status, 401);
      assert.equal(s2.session_faulted - s1.session_faulted, 2, "getSessionDetails: the request and one replay");
      assert.equal(s2.refresh_ok - s1.refresh_ok, 1, "getSessionDetails: one refresh");
      assert.equal(s2.refresh_rejected - s0.refresh_rejected, 0, "no refresh refused");
    } finally {
      await clearFaults(stub);
    }
    const log = await events(tab);
    assert.equal(log.filter((e) => e.startsWith("sessionExpired")).length, 0, `a 401 from a resource does not end the session (${JSON.stringify(log)})`);
  });
});

// ---------------------------------------------------------------------------------------------
// Scenario 7: polling.

/** A page with a signed-in client (a 1 h token) on `stub`. */
async function signedIn(tab, stub, user) {
  const grant = await stub.mintToken({ user_id: user, ttl_secs: 3600 });
  await createClient(tab, { baseUrl: stub.url, autoRefresh: false });
  const set = await call(tab, "setSession", grant);
  assert.equal(set.ok, true, `setSession: ${describeResult(set)}`);
}

function startPoll(tab, sessionId, intervalMs) {
  return tab.run("pollSession()", ([id, ms]) => void window.__startPoll(window.client, id, ms), [sessionId, intervalMs]);
}

function pollState(tab) {
  return tab.run("reading the poll", () => ({ ...window.__poll, stopped: window.__poller.stopped }));
}

/** The page's requests to GET session `id`, in order, with start/end times. */
function sessionFetches(tab, id) {
  return tab.run("reading the fetch log", (suffix) => window.__fetches.filter((f) => f.url.endsWith(suffix)), SESSIONS_PATH + encodeURIComponent(id));
}

test("scenario 7: polls never overlap: server 8 s slow, interval 1 s -> at most 1 in flight", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  // A stub of its own: session_in_flight_max is a maximum over the stub's life.
  const stub = await newStub();
  await inFreshPage(async (tab) => {
    await signedIn(tab, stub, "p-slow");
    const { session_id } = await stub.createSession({});
    await setFault(stub, { target: "sessions", delay_ms: 8_000 });
    const gets = (await stub.stats()).session_get;

    await startPoll(tab, session_id, 1_000);
    await until("the first poll to reach the stub", async () => (await stub.stats()).session_get > gets, 5_000);
    // An overlapping poller would have sent two more requests by now (interval 1 s).
    await sleep(2_500);
    const during = await stub.stats();
    await clearFaults(stub); // the request in flight still takes its 8 s
    assert.equal(during.session_get - gets, 1, "one request while the first is still unanswered");
    assert.equal(during.session_in_flight_max, 1, "at most one request in flight");

    // The slow answer arrives; the next poll comes an interval after it, still alone.
    await tab.waitIn("the slow answer", () => window.__poll.updates.length >= 1, null, 10_000);
    await until("the second poll", async () => (await stub.stats()).session_get - gets >= 2, 5_000);
    await tab.run("stop()", () => window.__poller.stop());
    await tab.waitIn("onEnd", () => window.__poll.end !== null, null, 5_000);

    const after = await stub.stats();
    const seen = await pollState(tab);
    const fetches = await sessionFetches(tab, session_id);
    const story = ` (fetches ${JSON.stringify(fetches.map((f) => [Math.round(f.start - seen.startedAt), f.end && Math.round(f.end - seen.startedAt)]))})`;
    assert.equal(after.session_in_flight_max, 1, `never more than one request in flight${story}`);
    assert.deepEqual(seen.updates.map((u) => u.status), ["scheduled"]);
    assert.deepEqual(seen.errors, []);
    assert.equal(seen.end, "stopped");
    assert.equal(seen.stopped, true);
    assert.ok(fetches.length >= 2, `the page sent the polls${story}`);
    assert.ok(fetches[0].end - fetches[0].start > 7_000, `the first poll waited for the slow answer${story}`);
    for (let i = 1; i < fetches.length; i++) {
      assert.ok(fetches[i - 1].end !== null && fetches[i].start >= fetches[i - 1].end, `poll ${i + 1} started before poll ${i} ended${story}`);
      assert.ok(fetches[i].start - fetches[i - 1].end >= 900, `poll ${i + 1} came less than the interval after poll ${i}${story}`);
    }
  });
});

test("scenario 7: unchanged sessions are 304s (If-None-Match); status ended stops polling by itself", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    await signedIn(tab, stub, "p-etag");
    const { session_id } = await stub.createSession({ status: "waiting" });
    const notModified = (await stub.stats()).session_not_modified;

    await startPoll(tab, session_id, 100);
    await until("two 304s", async () => (await stub.stats()).session_not_modified - notModified >= 2, 5_000);
    assert.deepEqual((await pollState(tab)).updates.map((u) => u.status), ["waiting"], "a 304 is not an update");

    await stub.patchSession(session_id, "active");
    await tab.waitIn("the active update", () => window.__poll.updates.at(-1)?.status === "active", null, 5_000);
    await stub.patchSession(session_id, "ended");
    await tab.waitIn("onEnd", () => window.__poll.end !== null, null, 5_000);

    const seen = await pollState(tab);
    assert.equal(seen.end, "ended");
    assert.equal(seen.stopped, true, "poller.stopped");
    assert.deepEqual(seen.updates.map((u) => u.status), ["waiting", "active", "ended"], "the terminal status is delivered, then onEnd");
    assert.deepEqual(seen.errors, []);
    const gets = (await stub.stats()).session_get;
    await sleep(500); // five intervals
    assert.equal((await stub.stats()).session_get, gets, "no polls after ended");
  });
});

test("scenario 7: stop() aborts the request in flight", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    await signedIn(tab, stub, "p-stop");
    const { session_id } = await stub.createSession({});
    await setFault(stub, { target: "sessions", delay_ms: 5_000 });
    try {
      const gets = (await stub.stats()).session_get;
      await startPoll(tab, session_id, 100);
      await until("the poll to reach the stub", async () => (await stub.stats()).session_get > gets, 5_000);

      const took = await tab.run("stop() until onEnd", async () => {
        const stoppedAt = window.__now();
        window.__poller.stop();
        while (window.__poll.end === null && window.__now() - stoppedAt < 4_000) await window.__sleep(10);
        return Math.round(window.__now() - stoppedAt);
      });

      const seen = await pollState(tab);
      const fetches = await sessionFetches(tab, session_id);
      assert.equal(seen.end, "stopped");
      assert.equal(seen.stopped, true);
      assert.ok(took < 1_000, `stop() did not wait for the 5 s answer: onEnd after ${took} ms`);
      assert.deepEqual(seen.updates, [], "no update");
      assert.deepEqual(seen.errors, [], "an abort by stop() is not reported as an error");
      assert.equal(fetches.length, 1, "one request");
      assert.ok(fetches[0].end !== null && fetches[0].end - seen.startedAt < 4_000, "the request in flight was aborted, not waited out");
      const after = (await stub.stats()).session_get;
      await sleep(300);
      assert.equal((await stub.stats()).session_get, after, "no polls after stop()");
    } finally {
      await clearFaults(stub);
    }
  });
});

test("scenario 7: poll errors are reported, back off honouring Retry-After, and polling goes on", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    await signedIn(tab, stub, "p-errors");
    const { session_id } = await stub.createSession({});
    await setFault(stub, { target: "sessions", fail_next: 2, status: 503, retry_after_secs: 1 });
    try {
      const faulted = (await stub.stats()).session_faulted;
      await startPoll(tab, session_id, 100);
      await tab.waitIn("an update after the errors", () => window.__poll.updates.length > 0, null, 8_000);
      await tab.run("stop()", () => window.__poller.stop());

      const seen = await pollState(tab);
      const times = [...seen.errors.map((e) => e.at), seen.updates[0].at].map((t) => Math.round(t - seen.startedAt));
      assert.deepEqual(seen.errors.map((e) => e.code), ["HTTP", "HTTP"]);
      assert.deepEqual(seen.errors.map((e) => e.status), [503, 503]);
      assert.deepEqual(seen.updates.map((u) => u.status), ["scheduled"]);
      assert.equal((await stub.stats()).session_faulted - faulted, 2);
      // Retry-After: 1 (ten intervals): each retry waited for it.
      assert.ok(times[1] - times[0] >= 950 && times[2] - times[1] >= 950, `retries honoured Retry-After: errors/update at +${times.join(", +")} ms`);
    } finally {
      await clearFaults(stub);
    }
  });
});

test("scenario 7: a session that keeps failing is polled with growing delays, not every interval", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    await signedIn(tab, stub, "p-backoff");
    const { session_id } = await stub.createSession({});
    await setFault(stub, { target: "sessions", fail_next: 1_000, status: 503 });
    try {
      const faulted = (await stub.stats()).session_faulted;
      await startPoll(tab, session_id, 100);
      // The observation window itself is the measurement: at a fixed 100 ms interval there would
      // be ~25 requests in it; with exponential backoff (full jitter, from 100 ms doubling) ~6.
      await sleep(2_500);
      await tab.run("stop()", () => window.__poller.stop());
      await tab.waitIn("onEnd", () => window.__poll.end !== null, null, 5_000);

      const seen = await pollState(tab);
      const requests = (await stub.stats()).session_faulted - faulted;
      const times = seen.errors.map((e) => Math.round(e.at - seen.startedAt));
      const story = ` (${requests} requests; errors at +${times.join(", +")} ms)`;
      assert.ok(requests >= 3, `polling went on after errors${story}`);
      assert.ok(requests <= 12, `errors back off${story}`);
      assert.ok(seen.errors.length >= 3 && seen.errors.every((e) => e.code === "HTTP" && e.status === 503), `every failure reported${story}`);
      for (let i = 1; i < times.length; i++) {
        assert.ok(times[i] - times[i - 1] >= 90, `never faster than the interval${story}`);
      }
      assert.deepEqual(seen.updates, []);
      assert.equal(seen.end, "stopped");
    } finally {
      await clearFaults(stub);
    }
  });
});

test("scenario 7: an unknown session ends polling as notFound", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    await signedIn(tab, stub, "p-404");
    await startPoll(tab, "no-such-session", 100);
    await tab.waitIn("onEnd", () => window.__poll.end !== null, null, 5_000);
    const seen = await pollState(tab);
    assert.equal(seen.end, "notFound");
    assert.equal(seen.stopped, true);
    assert.deepEqual(seen.updates, []);
  });
});

// ---------------------------------------------------------------------------------------------
// Scenario 8: corrupted storage, throwing storage.

test("scenario 8: corrupted storage values read as no session (NO_TOKEN), nothing sent, nothing lost", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    const cases = [
      ["not-a-jwt", "2026-01-26T08:00:00"],
      ["a.b.c", "garbage"],
      ["", ""],
      [NO_EXP_TOKEN, "not a date"], // a JWT without exp, and no usable expiry
    ];
    const before = await stub.stats();
    for (const [i, [token, expiresAt]] of cases.entries()) {
      const keys = { token: `corrupt-token-${i}`, expiresAt: `corrupt-exp-${i}` };
      await storeToken(tab, token, expiresAt, keys);
      await createClient(tab, { baseUrl: stub.url, autoRefresh: false, storageKeys: keys });
      const got = await call(tab, "getValidToken");
      const label = `${JSON.stringify(token)} / ${JSON.stringify(expiresAt)}`;
      assert.equal(got.ok, false, `${label}: ${describeResult(got)}`);
      assert.equal(got.error.code, "NO_TOKEN", `${label}: ${describeResult(got)}`);
      assert.equal(got.error.name, "ConsultError", `${label}: error name`);
      assert.equal(await tokenInfo(tab), null, `${label}: no current token`);
      assert.deepEqual(await readStorage(tab, keys), { token, expiresAt }, `${label}: nothing lost`);
      const log = await events(tab);
      assert.equal(log.filter((e) => e.startsWith("sessionExpired")).length, 0, `${label}: no sessionExpired (${JSON.stringify(log)})`);
    }
    const after = await stub.stats();
    assert.equal(after.refresh_ok + after.refresh_rejected + after.refresh_faulted, before.refresh_ok + before.refresh_rejected + before.refresh_faulted, "no refresh request");
  });
});

test("scenario 8: a storage adapter that throws (quota) -> memory, with one STORAGE warning", { timeout: TEST_TIMEOUT_MS }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = mainStub;
  await inFreshPage(async (tab) => {
    await createClient(tab, { baseUrl: stub.url, autoRefresh: false, throwingStorage: true });
    const grant = await stub.mintToken({ user_id: "p-quota", ttl_secs: 3600 });
    const before = (await stub.stats()).refresh_ok;

    const set = await call(tab, "setSession", grant);
    const got = await call(tab, "getValidToken");

    const log = await events(tab);
    assert.equal(set.ok, true, `setSession still works: ${describeResult(set)}`);
    assert.equal(countOf(log, "warning:STORAGE"), 1, `one STORAGE warning (${JSON.stringify(log)})`);
    assert.equal(got.ok, true, `getValidToken: ${describeResult(got)}`);
    assert.equal(got.value, grant.access_token, "served from memory");
    assert.equal((await tokenInfo(tab))?.token, grant.access_token);
    assert.equal((await stub.stats()).refresh_ok - before, 0, "no refresh");
  });
});
