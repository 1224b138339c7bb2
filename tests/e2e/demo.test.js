// End-to-end tests of the consult-web demo (the Leptos consultation screen): the release build in
// <repo>/dist, served by the REAL consult-stub (`--static-dir dist`, same origin as the API and
// Socket.IO), driven in Debian's headless Chromium (/usr/bin/chromium) through playwright-core.
//
// The tests only use the demo's DOM contract (element ids and texts), never its internals:
//   sign-in  #signin, #user-id, #user-name, #role, #ttl (seconds: "14400" | "60" | "20"),
//            #session-id, #signin-button, #signin-message
//   screen   #consultation, #session-status, #poll-state, #room-state, #participants (ul > li),
//            #token-expires-in ("h:mm:ss"), #token-skew, #refresh-count,
//            #last-refresh ("hh:mm:ss (h:mm:ss ago)" or "—"),
//            #token-timeline (.token-life per token, .refresh-marker[data-refresh] per refresh,
//            .now-line), #event-log (ol > li[data-kind] "hh:mm:ss …"), #video,
//            #fault-refresh, #end-session, #revoke
//
// Each test starts its own stub (fresh sessions, counters and faults) and its own browser context
// (fresh localStorage). Tests that need refreshes to happen within seconds run the stub with
// `--token-ttl 20s`: the demo signs in with a 20 s token (#ttl = "20") and every successor the
// stub issues also lives 20 s, so a refresh is due every ~10 s (the client refreshes at half the
// lifetime when that is shorter than its 5 min margin).
//
// Build the demo first (scripts/build-web.sh); scripts/test-e2e.sh does everything.
// Artifacts: target/e2e/consultation.png (test 5) and, on failure, target/e2e/<test>-failure.png.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { startStub } from "../interop/stub.js";
import { launchChromium, missingChromium, missingFiles } from "../support/browser.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..", "..");
const DIST = process.env.CONSULT_DIST_DIR || resolve(ROOT, "dist");
const ARTIFACTS = resolve(ROOT, "target", "e2e");
const SCREENSHOT = resolve(ARTIFACTS, "consultation.png");
const REFRESH_PATH = "/api/video/auth/refresh-token";

const STEP_TIMEOUT_MS = 15_000; // a page load, a sign-in, one expected change on screen
const TWO_REFRESHES_WITHIN_MS = 45_000; // test 1
const QUIET_POLLING_MS = 6_000; // test 2: no GET session for this long after "ended"
const SHORT_TTL = "20"; // #ttl option value, seconds
const SHORT_TTL_STUB = ["--token-ttl", "20s"]; // successors live 20 s too
const FIRST_RENDER_LOADS = 3;

/** A missing build (or browser) is an error every test reports, not a crash of the file. */
const prerequisite =
  missingFiles(
    [resolve(DIST, "index.html")],
    ([index]) =>
      `the demo is not built: ${index} is missing — build the demo: scripts/build-web.sh ` +
      "(or run scripts/test-e2e.sh, which builds it)",
  ) ?? missingChromium();

// Runs in every page before the app: records when #signin first becomes visible (ms since
// navigation start) and every change of the screen's state fields, with timestamps, so a failure
// can say what the screen went through, not only what it shows at the end.
const PAGE_PROBE = () => {
  window.__e2e = { signinVisibleAt: null, history: [] };
  const fields = ["session-status", "poll-state", "room-state", "refresh-count"];
  const last = {};
  const visible = (el) => {
    if (!el) return false;
    const rect = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return rect.width > 0 && rect.height > 0 && style.visibility !== "hidden" && style.display !== "none";
  };
  const check = () => {
    if (window.__e2e.signinVisibleAt === null && visible(document.getElementById("signin"))) {
      window.__e2e.signinVisibleAt = performance.now();
    }
    for (const id of fields) {
      const el = document.getElementById(id);
      const value = el ? el.textContent.trim() : null;
      if (value !== last[id]) {
        last[id] = value;
        window.__e2e.history.push({ t: Math.round(performance.now()), field: id, value });
      }
    }
  };
  new MutationObserver(check).observe(document, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
  });
  document.addEventListener("DOMContentLoaded", check);
};

let browser;
const stubs = [];
const contexts = [];

before(async () => {
  if (prerequisite) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium({ timeout: STEP_TIMEOUT_MS * 2 });
});

after(async () => {
  await Promise.all(contexts.map((context) => context.close().catch(() => {})));
  await browser?.close().catch(() => {});
  await Promise.all(stubs.map((stub) => stub.stop()));
});

async function newStub(args = []) {
  const stub = await startStub(["--static-dir", DIST, ...args]);
  stubs.push(stub);
  return stub;
}

/** A fresh context (own storage) and page on the stub's origin; `errors` collects page errors. */
async function openDemo(stub) {
  if (prerequisite) throw prerequisite;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  await context.addInitScript(PAGE_PROBE);
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const errors = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console.error: ${message.text()}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) {
      errors.push(`HTTP ${response.status()}: ${response.request().method()} ${new URL(response.url()).pathname}`);
    }
  });
  page.on("requestfailed", (request) => {
    // Aborted polls/sockets on stop or sign-out are expected; keep them for the story anyway.
    errors.push(`requestfailed: ${request.method()} ${new URL(request.url()).pathname} ${request.failure()?.errorText}`);
  });
  await page.goto(stub.url + "/", { timeout: STEP_TIMEOUT_MS });
  try {
    await page.waitForSelector("#signin", { state: "visible", timeout: STEP_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`#signin never became visible: ${error.message}\n${await describeScreen(page, errors)}`);
  }
  return { context, page, errors };
}

/** Everything the contract exposes, for failure messages. */
async function screenState(page) {
  return page.evaluate(() => {
    const text = (id) => {
      const el = document.getElementById(id);
      return el ? el.textContent.trim() : null;
    };
    const items = (id) => {
      const el = document.getElementById(id);
      return el ? [...el.querySelectorAll("li")].map((li) => ({ kind: li.dataset.kind ?? null, text: li.textContent.trim() })) : null;
    };
    return {
      signin: !!document.getElementById("signin"),
      signinMessage: text("signin-message"),
      consultation: !!document.getElementById("consultation"),
      sessionStatus: text("session-status"),
      pollState: text("poll-state"),
      roomState: text("room-state"),
      participants: items("participants")?.map((p) => p.text) ?? null,
      tokenExpiresIn: text("token-expires-in"),
      tokenSkew: text("token-skew"),
      refreshCount: text("refresh-count"),
      lastRefresh: text("last-refresh"),
      timeline: {
        tokens: document.querySelectorAll("#token-timeline .token-life").length,
        refreshMarkers: document.querySelectorAll("#token-timeline .refresh-marker").length,
      },
      log: items("event-log"),
      history: window.__e2e?.history ?? [],
      authTokenStored: localStorage.getItem("authToken") !== null,
    };
  });
}

async function describeScreen(page, errors, stub) {
  let out = "";
  try {
    const s = await screenState(page);
    const log = s.log === null ? "  (no #event-log)" : s.log.map((e) => `    [${e.kind}] ${e.text}`).join("\n") || "    (empty)";
    const history = s.history.map((h) => `${h.t}ms ${h.field}=${JSON.stringify(h.value)}`).join(", ");
    out +=
      `screen: #signin ${s.signin ? "present" : "absent"}, #signin-message ${JSON.stringify(s.signinMessage)}, ` +
      `#consultation ${s.consultation ? "present" : "absent"}\n` +
      `  #session-status ${JSON.stringify(s.sessionStatus)}, #poll-state ${JSON.stringify(s.pollState)}, ` +
      `#room-state ${JSON.stringify(s.roomState)}, #participants ${JSON.stringify(s.participants)}\n` +
      `  #token-expires-in ${JSON.stringify(s.tokenExpiresIn)}, #token-skew ${JSON.stringify(s.tokenSkew)}, ` +
      `#refresh-count ${JSON.stringify(s.refreshCount)}, #last-refresh ${JSON.stringify(s.lastRefresh)}, ` +
      `#token-timeline ${JSON.stringify(s.timeline)}, ` +
      `authToken in localStorage: ${s.authTokenStored}\n` +
      `  #event-log:\n${log}\n` +
      `  history: ${history || "(none)"}`;
  } catch (error) {
    out += `screen: could not be read (${error.message})`;
  }
  if (stub) {
    try {
      out += `\n  stub stats: ${JSON.stringify(await stub.stats())}`;
    } catch {}
  }
  if (errors?.length) out += `\n  page errors:\n    ${errors.slice(-20).join("\n    ")}`;
  return out;
}

/** Waits for `fn(arg)` in the page; on timeout, fails with `what` and the whole screen. */
async function waitFor(ctx, what, fn, arg, timeout = STEP_TIMEOUT_MS) {
  try {
    await ctx.page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (error) {
    await failureShot(ctx.page, what);
    throw new Error(`${what} — not within ${timeout} ms (${error.message.split("\n")[0]})\n${await describeScreen(ctx.page, ctx.errors, ctx.stub)}`);
  }
}

async function failureShot(page, what) {
  try {
    const name = what.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
    await page.screenshot({ path: resolve(ARTIFACTS, `${name}-failure.png`), fullPage: true });
  } catch {}
}

/** Fills the sign-in form and submits; resolves once #consultation is present. */
async function signIn(ctx, { userId, name, role = "PATIENT", ttl, sessionId }) {
  const { page } = ctx;
  await page.fill("#user-id", userId);
  await page.fill("#user-name", name);
  await page.selectOption("#role", role);
  if (ttl !== undefined) await page.selectOption("#ttl", ttl);
  await page.fill("#session-id", sessionId);
  await page.click("#signin-button");
  await waitFor(ctx, "after sign-in, #consultation appears", () => !!document.getElementById("consultation"));
}

const text = (page, id) => page.evaluate((id) => document.getElementById(id)?.textContent.trim() ?? null, id);
const count = async (page, id) => Number.parseInt((await text(page, id)) ?? "", 10);
const logEntries = (page) =>
  page.evaluate(() => [...document.querySelectorAll("#event-log li")].map((li) => ({ kind: li.dataset.kind ?? null, text: li.textContent.trim() })));
const TIME_PREFIX = /^\d{2}:\d{2}:\d{2}/;
/** A duration as a person reads it: h:mm:ss ("3:54:12", "0:00:17"). */
const DURATION = /^\d+:[0-5]\d:[0-5]\d$/;
/** Seconds of an h:mm:ss text (NaN when it is not one). */
const seconds = (hms) => {
  if (!DURATION.test(hms ?? "")) return Number.NaN;
  const [h, m, s] = hms.split(":").map(Number);
  return h * 3600 + m * 60 + s;
};
const KINDS = ["refresh", "retry", "reconnect", "error", "status", "info"];

/** One stub + signed-in page; `t.after` closes the page's context. */
async function signedIn(t, { stubArgs = [], ttl, sessionId, userId = "patient-1", name = "Pat E2E", role = "PATIENT" }) {
  const stub = await newStub(stubArgs);
  const ctx = { stub, ...(await openDemo(stub)) };
  t.after(() => ctx.context.close().catch(() => {}));
  await signIn(ctx, { userId, name, role, ttl, sessionId });
  return ctx;
}

test("first render: navigation start -> #signin visible", { timeout: 60_000 }, async (t) => {
  if (prerequisite) throw prerequisite;
  const stub = await newStub();
  const samples = [];
  for (let i = 0; i < FIRST_RENDER_LOADS; i++) {
    const ctx = await openDemo(stub); // a fresh context each time: no HTTP or wasm cache
    const timing = await ctx.page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      return {
        signin: window.__e2e.signinVisibleAt,
        dcl: nav?.domContentLoadedEventEnd ?? null,
        load: nav?.loadEventEnd ?? null,
      };
    });
    await ctx.context.close();
    assert.notEqual(timing.signin, null, "the probe saw #signin become visible");
    samples.push(timing);
  }
  const ms = samples.map((s) => Math.round(s.signin));
  const sorted = [...ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`first render: ${ms[0]} ms`);
  t.diagnostic(
    `first render (navigation start -> #signin visible), ${FIRST_RENDER_LOADS} cold loads on loopback: ` +
      `${ms.join(", ")} ms (median ${median} ms); DOMContentLoaded ${samples.map((s) => Math.round(s.dcl)).join(", ")} ms; ` +
      `load ${samples.map((s) => Math.round(s.load)).join(", ")} ms`,
  );
});

test("0. load: no error in the console, no failed or refused request", { timeout: 60_000 }, async () => {
  if (prerequisite) throw prerequisite;
  const stub = await newStub();
  const ctx = await openDemo(stub);
  try {
    await ctx.page.waitForLoadState("networkidle", { timeout: STEP_TIMEOUT_MS });
    await ctx.page.waitForTimeout(500); // anything the app starts after its first render
    assert.deepEqual(ctx.errors, [], `the page loads without console errors, page errors or HTTP >= 400\n${await describeScreen(ctx.page, ctx.errors)}`);
  } finally {
    await ctx.context.close();
  }
});

test("1. a 20 s token refreshes itself at least twice within 45 s; no error, the room stays joined, polling shows the status", { timeout: 90_000 }, async (t) => {
  if (prerequisite) throw prerequisite;
  const userId = "patient-e2e-1";
  const ctx = await signedIn(t, { stubArgs: SHORT_TTL_STUB, ttl: SHORT_TTL, sessionId: "e2e-refresh", userId });
  const { page, stub } = ctx;
  const signedInAt = Date.now();

  await waitFor(ctx, `#room-state becomes "joined"`, () => document.getElementById("room-state")?.textContent.trim() === "joined");
  await waitFor(ctx, "#session-status shows a status", () =>
    ["scheduled", "waiting", "active", "ended", "cancelled"].includes(document.getElementById("session-status")?.textContent.trim()),
  );
  await waitFor(ctx, `#participants lists ${userId}`, (id) =>
    [...document.querySelectorAll("#participants li")].some((li) => li.textContent.includes(id)), userId);
  await waitFor(ctx, "#token-expires-in shows h:mm:ss in (0:00:00, 0:00:20] for a 20 s token", () =>
    /^0:00:(0[1-9]|1\d|20)$/.test(document.getElementById("token-expires-in")?.textContent.trim() ?? ""),
  );
  if ((await count(page, "refresh-count")) === 0) {
    assert.equal(await text(page, "last-refresh"), "—", "#last-refresh shows — before the first refresh");
  }

  await waitFor(
    ctx,
    "#refresh-count >= 2 and two data-kind=refresh log entries",
    () =>
      Number.parseInt(document.getElementById("refresh-count")?.textContent ?? "", 10) >= 2 &&
      document.querySelectorAll('#event-log li[data-kind="refresh"]').length >= 2,
    undefined,
    Math.max(1_000, TWO_REFRESHES_WITHIN_MS - (Date.now() - signedInAt)),
  );
  // "stays/returns joined": after the refreshes the room is (again) joined.
  await waitFor(ctx, `#room-state is "joined" after the refreshes`, () => document.getElementById("room-state")?.textContent.trim() === "joined", undefined, 10_000);

  // The time line: a bar per token and a marker per refresh of this client, inside the track.
  await waitFor(ctx, "#token-timeline shows >= 2 tokens and >= 1 refresh marker", () =>
    document.querySelectorAll("#token-timeline .token-life").length >= 2 &&
    document.querySelectorAll("#token-timeline .refresh-marker").length >= 1,
  );
  const timeline = await page.evaluate(() => {
    const track = document.querySelector("#token-timeline .timeline-track").getBoundingClientRect();
    const inside = (el) => {
      const r = el.getBoundingClientRect();
      return r.left >= track.left - 1 && r.right <= track.right + 1 && r.width > 0 && r.height > 0;
    };
    const markers = [...document.querySelectorAll("#token-timeline .refresh-marker")];
    return {
      markers: markers.map((m) => Number(m.dataset.refresh)),
      inside: [...markers, ...document.querySelectorAll("#token-timeline .token-life, #token-timeline .now-line")].every(inside),
    };
  });
  assert.ok(timeline.markers.every((n) => n >= 1), `refresh markers carry the refresh number: ${JSON.stringify(timeline)}`);
  assert.ok(timeline.inside, `bars, markers and the now line lie inside the track: ${JSON.stringify(timeline)}`);

  const story = await describeScreen(page, ctx.errors, stub);
  const entries = await logEntries(page);
  const errorsLogged = entries.filter((e) => e.kind === "error");
  assert.deepEqual(errorsLogged, [], `no data-kind=error entries in the log\n${story}`);
  const consoleErrors = ctx.errors.filter((e) => !e.startsWith("requestfailed:"));
  assert.deepEqual(consoleErrors, [], `no console error, page error or HTTP >= 400 from sign-in through two refreshes\n${story}`);
  for (const entry of entries) {
    assert.match(entry.text, TIME_PREFIX, `every log entry starts with hh:mm:ss\n${story}`);
    assert.ok(KINDS.includes(entry.kind), `data-kind ${JSON.stringify(entry.kind)} is one of ${KINDS.join("|")}\n${story}`);
  }
  assert.match(
    await text(page, "last-refresh"),
    /^\d{2}:\d{2}:\d{2} \(\d+:[0-5]\d:[0-5]\d ago\)$/,
    `#last-refresh shows the time of day and how long ago after refreshes\n${story}`,
  );
  const stats = await stub.stats();
  assert.ok(stats.refresh_ok >= 2, `the stub answered >= 2 refreshes, stats ${JSON.stringify(stats)}\n${story}`);
  assert.equal(stats.refresh_rejected, 0, `the stub rejected no refresh\n${story}`);
  assert.ok(stats.session_get >= 2, `polling reached the stub at least twice, stats ${JSON.stringify(stats)}\n${story}`);
  const history = (await screenState(page)).history.filter((h) => h.field === "room-state").map((h) => h.value);
  t.diagnostic(`room-state went through: ${history.join(" -> ")}; stats ${JSON.stringify(stats)}`);
});

test("2. PATCH the session to active, then ended: the screen shows each, polling stops after ended", { timeout: 75_000 }, async (t) => {
  if (prerequisite) throw prerequisite;
  const sessionId = "e2e-status";
  const ctx = await signedIn(t, { sessionId, userId: "patient-e2e-2" });
  const { page, stub } = ctx;
  const statusIs = (status) => document.getElementById("session-status")?.textContent.trim() === status;

  await waitFor(ctx, "#session-status shows the first polled status", () =>
    ["scheduled", "waiting", "active"].includes(document.getElementById("session-status")?.textContent.trim()),
  );
  await waitFor(ctx, `#poll-state is "polling" before the end`, () => document.getElementById("poll-state")?.textContent.trim() === "polling");

  await stub.patchSession(sessionId, "active");
  await waitFor(ctx, `#session-status shows "active" after PATCH active`, statusIs, "active");
  await stub.patchSession(sessionId, "ended");
  await waitFor(ctx, `#session-status shows "ended" after PATCH ended`, statusIs, "ended");
  await waitFor(ctx, `#poll-state says "stopped (ended)" (or contains "stopped")`, () =>
    /stopped/i.test(document.getElementById("poll-state")?.textContent ?? ""),
  );
  const pollState = await text(page, "poll-state");

  await new Promise((done) => setTimeout(done, 500)); // a poll already on the wire lands
  const before = (await stub.stats()).session_get;
  await new Promise((done) => setTimeout(done, QUIET_POLLING_MS));
  const afterStats = await stub.stats();
  const story = await describeScreen(page, ctx.errors, stub);
  assert.equal(
    afterStats.session_get,
    before,
    `no GET session for ${QUIET_POLLING_MS} ms after "ended": session_get went ${before} -> ${afterStats.session_get}\n${story}`,
  );
  assert.equal(await text(page, "session-status"), "ended", `#session-status still "ended"\n${story}`);
  assert.ok(/stopped/i.test(await text(page, "poll-state")), `#poll-state still stopped\n${story}`);
  if (pollState !== "stopped (ended)") t.diagnostic(`#poll-state is ${JSON.stringify(pollState)}, not exactly "stopped (ended)"`);
  const statusEntries = (await logEntries(page)).filter((e) => e.kind === "status").map((e) => e.text);
  t.diagnostic(`poll-state ${JSON.stringify(pollState)}; status log: ${JSON.stringify(statusEntries)}`);
});

test("3. refresh outage (503 x3 from #fault-refresh): the log shows retries, the session continues, no sign-out", { timeout: 120_000 }, async (t) => {
  if (prerequisite) throw prerequisite;
  const ctx = await signedIn(t, { stubArgs: SHORT_TTL_STUB, ttl: SHORT_TTL, sessionId: "e2e-outage", userId: "patient-e2e-3" });
  const { page, stub } = ctx;
  await waitFor(ctx, `#room-state becomes "joined"`, () => document.getElementById("room-state")?.textContent.trim() === "joined");

  const countBefore = await count(page, "refresh-count");
  assert.ok(Number.isInteger(countBefore), `#refresh-count is an integer, got ${JSON.stringify(await text(page, "refresh-count"))}`);
  await page.click("#fault-refresh");
  // The demo installs the fault through POST /api/dev/faults; nothing has failed yet.
  const faultedBefore = (await stub.stats()).refresh_faulted;

  // With a 20 s token the next refresh is due within ~10 s; it fails 3 times (503), then succeeds.
  await waitFor(ctx, "data-kind=retry entries in the log", () => document.querySelectorAll('#event-log li[data-kind="retry"]').length >= 1, undefined, 30_000);
  await waitFor(
    ctx,
    `#refresh-count increases past ${countBefore} after the outage`,
    (n) => Number.parseInt(document.getElementById("refresh-count")?.textContent ?? "", 10) > n,
    countBefore,
    45_000,
  );
  const stats = await stub.stats();
  const story = await describeScreen(page, ctx.errors, stub);
  assert.ok(
    stats.refresh_faulted - faultedBefore >= 3 || stats.refresh_faulted >= 3,
    `the stub answered 3 refreshes with the injected 503 (refresh_faulted ${stats.refresh_faulted}) — did #fault-refresh install the fault?\n${story}`,
  );
  assert.ok(await page.$("#consultation"), `#consultation still present: no sign-out\n${story}`);
  assert.equal(await page.$("#signin"), null, `#signin not shown: no sign-out\n${story}`);
  assert.equal(stats.refresh_rejected, 0, `no refresh rejected (401)\n${story}`);
  await waitFor(ctx, `#room-state is "joined" after the outage`, () => document.getElementById("room-state")?.textContent.trim() === "joined", undefined, 10_000);
  const entries = await logEntries(page);
  const retries = entries.filter((e) => e.kind === "retry");
  for (const entry of retries) assert.match(entry.text, TIME_PREFIX, `retry entries start with hh:mm:ss\n${story}`);
  t.diagnostic(`retries logged: ${retries.length} (${retries.map((e) => JSON.stringify(e.text)).join("; ")}); stats ${JSON.stringify(stats)}`);
});

test("4. #revoke: back to sign-in with a 'signed out' message, and the stub refuses the old token", { timeout: 60_000 }, async (t) => {
  if (prerequisite) throw prerequisite;
  const ctx = await signedIn(t, { sessionId: "e2e-revoke", userId: "patient-e2e-4" });
  const { page, stub } = ctx;
  await waitFor(ctx, `#room-state becomes "joined"`, () => document.getElementById("room-state")?.textContent.trim() === "joined");

  const oldToken = await page.evaluate(() => localStorage.getItem("authToken"));
  assert.ok(oldToken, `localStorage.authToken holds the token while signed in\n${await describeScreen(page, ctx.errors, stub)}`);
  await page.click("#revoke");

  await waitFor(ctx, "#signin visible again and #consultation gone", () => {
    const signin = document.getElementById("signin");
    if (!signin || document.getElementById("consultation")) return false;
    const rect = signin.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0;
  });
  await waitFor(ctx, `#signin-message contains "signed out"`, () =>
    /signed out/i.test(document.getElementById("signin-message")?.textContent ?? ""),
  );
  const answer = await stub.request("POST", REFRESH_PATH, { token: oldToken, expect: 401 });
  t.diagnostic(
    `#signin-message ${JSON.stringify(await text(page, "signin-message"))}; refresh of the old token -> 401 ${JSON.stringify(answer)}; ` +
      `authToken after sign-out: ${JSON.stringify(await page.evaluate(() => localStorage.getItem("authToken")))}`,
  );
});

test("5. a screenshot of the consultation screen is saved to target/e2e/consultation.png", { timeout: 60_000 }, async (t) => {
  if (prerequisite) throw prerequisite;
  const ctx = await signedIn(t, { sessionId: "e2e-screenshot", userId: "patient-e2e-5", name: "Pat Screenshot" });
  const { page } = ctx;
  await waitFor(ctx, `#room-state becomes "joined"`, () => document.getElementById("room-state")?.textContent.trim() === "joined");
  await waitFor(ctx, "#session-status shows a status", () => (document.getElementById("session-status")?.textContent.trim() ?? "") !== "");
  await waitFor(ctx, "#participants has an entry", () => document.querySelectorAll("#participants li").length >= 1);
  await page.waitForTimeout(1_500); // a countdown tick or two, a poll: a lived-in screen
  const left = await text(page, "token-expires-in");
  assert.match(left, DURATION, `#token-expires-in reads h:mm:ss for a 4-hour token, got ${JSON.stringify(left)}`);
  assert.ok(
    seconds(left) > 4 * 3600 - 60 && seconds(left) <= 4 * 3600,
    `#token-expires-in is just under 4:00:00 after sign-in with a 4-hour token, got ${JSON.stringify(left)}`,
  );
  await waitFor(ctx, "#token-timeline shows the token's bar and the now line", () =>
    document.querySelectorAll("#token-timeline .token-life").length === 1 && !!document.querySelector("#token-timeline .now-line"),
  );
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(existsSync(SCREENSHOT), `${SCREENSHOT} exists`);
  const size = statSync(SCREENSHOT).size;
  assert.ok(size > 10 * 1024, `the screenshot is > 10 KB (got ${size} bytes): a blank page?`);
  t.diagnostic(`screenshot ${SCREENSHOT}: ${size} bytes`);
});
