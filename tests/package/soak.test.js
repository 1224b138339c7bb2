// A browser soak of the npm package's cross-tab protocol: four tabs of one headless Chromium
// (one context: shared IndexedDB, localStorage, Web Locks, BroadcastChannel) share one sign-in
// with 8-second tokens against a STRICT consult-stub (--reuse-window 0s: refreshing a token
// twice revokes the sign-in). For SOAK_SECONDS (default 120) every tab asks for a token about
// every second and polls a session every second, with the background auto-refresh on, while
// the stub's refresh endpoint answers 503s and slow answers in turns. Nobody may be signed out,
// and the tabs together refresh about once per token lifetime.
//
// Before the token machine, the next lock holder re-read localStorage, which Chromium serves
// each tab from a lagging copy: it often read the old token, refreshed it again, and the strict
// server revoked the sign-in of every tab within seconds. (With the machine, a broadcast that
// arrives before the next lock holder reads also saves the day; the simulator shows the cases
// where it does not: a late or lost broadcast.)

import { after, before, test } from "node:test";
import assert from "node:assert/strict";

import { startStub } from "../interop/stub.js";
import { launchChromium, missingChromium, withTimeout } from "../support/browser.mjs";
import { missingPackage, openPackagePage, packagePage, servePackage, storeToken } from "../support/package-page.mjs";

const PAGE_PATH = "/soak.html";
const TABS = 4;
const TOKEN_SECONDS = 8;
const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 120);
const STEP_TIMEOUT_MS = 15_000;

// Each tab: a client with the package defaults (storage "local", cross-tab on, auto-refresh
// on), polling the session every second and asking for a token about every second; it records
// what happened in window.__soak.
const PAGE = packagePage({
  title: "soak",
  script: `window.__pollRequests = 0;
const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = (input, init) => {
  if (String(input?.url ?? input).includes("/api/video/sessions/")) window.__pollRequests += 1;
  return realFetch(input, init);
};
window.__startSoak = (baseUrl, sessionId) => {
  const soak = (window.__soak = { calls: 0, errors: [], expired: 0, refreshed: 0, pollErrors: 0, running: true });
  const client = (window.client = new window.__ConsultClient({ baseUrl }));
  client.on("sessionExpired", () => (soak.expired += 1));
  client.on("tokenRefreshed", () => (soak.refreshed += 1));
  window.__poller = client.pollSession(sessionId, {
    intervalMs: 1000,
    onUpdate: () => {},
    onError: () => (soak.pollErrors += 1),
  });
  (async () => {
    while (soak.running) {
      soak.calls += 1;
      await client.getValidToken().catch((e) => soak.errors.push(e?.code ?? String(e)));
      await new Promise((done) => setTimeout(done, 600 + Math.random() * 800));
    }
  })();
};`,
});

const prerequisite = missingPackage() ?? missingChromium();

let server;
let browser;
let stub;

before(async () => {
  if (prerequisite) return;
  server = await servePackage({ pages: { [PAGE_PATH]: PAGE } });
  browser = await launchChromium({ timeout: STEP_TIMEOUT_MS * 2 });
  stub = await startStub(["--reuse-window", "0s"]);
});

after(async () => {
  await browser?.close().catch(() => {});
  await stub?.stop();
  await server?.close();
});

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** The refresh faults, in turns: 503s, then slow answers, then none. */
async function injectFaults(untilMs) {
  const turns = [
    { target: "refresh", fail_next: 2, status: 503 },
    { target: "refresh", fail_next: 0, delay_ms: 2500 },
    null,
  ];
  for (let turn = 0; Date.now() < untilMs; turn += 1) {
    const fault = turns[turn % turns.length];
    if (fault) await stub.request("POST", "/api/dev/faults", { body: fault, expect: 204 });
    else await stub.request("DELETE", "/api/dev/faults", { expect: 204 });
    await sleep(Math.min(12_000, Math.max(0, untilMs - Date.now())));
  }
  await stub.request("DELETE", "/api/dev/faults", { expect: 204 });
}

test(`${TABS} tabs, ${TOKEN_SECONDS} s tokens, a strict stub, ${SOAK_SECONDS} s of calls and polling with 503s and slow refreshes: nobody signed out, about one refresh per token lifetime`, { timeout: (SOAK_SECONDS + 90) * 1000 }, async (t) => {
  if (prerequisite) throw prerequisite;
  const context = await browser.newContext();
  try {
    const errors = [];
    const tabs = [];
    for (let i = 0; i < TABS; i += 1) {
      tabs.push(await openPackagePage(context, server.origin + PAGE_PATH, { timeout: STEP_TIMEOUT_MS, name: `tab ${i}`, errors }));
    }
    const grant = await stub.mintToken({ user_id: "patient-soak", ttl_secs: TOKEN_SECONDS });
    const session = await stub.createSession();
    await storeToken(tabs[0], grant);
    const before = await stub.stats();
    for (const tab of tabs) {
      await withTimeout(tab.evaluate(([url, id]) => window.__startSoak(url, id), [stub.url, session.session_id]), STEP_TIMEOUT_MS, "starting a tab");
    }

    await injectFaults(Date.now() + SOAK_SECONDS * 1000);
    // A quiet end: every tab catches up with the last token.
    await sleep(3_000);

    const results = [];
    for (const tab of tabs) {
      results.push(
        await withTimeout(
          tab.evaluate(async () => {
            const soak = window.__soak;
            soak.running = false;
            window.__poller.stop();
            let token = null;
            let error = null;
            try {
              token = await window.client.getValidToken();
            } catch (e) {
              error = e?.code ?? String(e);
            }
            return { ...soak, polls: window.__pollRequests, token, error };
          }),
          STEP_TIMEOUT_MS,
          "reading a tab's results",
        ),
      );
    }
    const after = await stub.stats();
    const refreshes = after.refresh_ok - before.refresh_ok;
    const rejected = after.refresh_rejected - before.refresh_rejected;
    const lifetimes = SOAK_SECONDS / TOKEN_SECONDS;
    const story =
      `\n  stub: refresh_ok +${refreshes}, refresh_rejected +${rejected}, refresh_faulted +${after.refresh_faulted - before.refresh_faulted}` +
      results.map((r, i) => `\n  tab ${i}: calls ${r.calls}, errors ${JSON.stringify(r.errors.slice(0, 5))} (${r.errors.length}), refreshed ${r.refreshed}, polls ${r.polls} (errors ${r.pollErrors}), sessionExpired ${r.expired}, final ${r.error ?? "token ok"}`).join("") +
      (errors.length ? `\n  page errors:\n    ${errors.slice(0, 10).join("\n    ")}` : "");
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));

    for (const [i, r] of results.entries()) {
      assert.equal(r.expired, 0, `tab ${i} was signed out${story}`);
      assert.equal(r.error, null, `tab ${i} has no token at the end${story}`);
      assert.ok(r.polls > SOAK_SECONDS / 3, `tab ${i} kept polling (poll requests sent)${story}`);
    }
    assert.equal(rejected, 0, `the strict stub refused a refresh (a token refreshed twice)${story}`);
    const whoami = await stub.request("GET", "/api/dev/whoami", { token: results[0].token });
    assert.equal(typeof whoami.jti, "string", `the final token is accepted by a strict endpoint${story}`);
    // Tokens are due at half their life (4 s) and refreshes are at least 5 s apart: about one
    // refresh per 5 s across all tabs, never one per tab.
    assert.ok(refreshes >= lifetimes / 2, `the tabs kept refreshing${story}`);
    assert.ok(refreshes <= (SOAK_SECONDS / 5) * 1.3 + 3, `about one refresh per token lifetime, not one per tab${story}`);
  } finally {
    await context.close().catch(() => {});
  }
});
