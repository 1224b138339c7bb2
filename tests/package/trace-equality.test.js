// Trace equality, the JavaScript driver: every scenario of
// crates/consult-core/tests/data/traces.json run through the npm package's executor
// (`ConsultClient`, its browser entry and wasm, target/pkg) in headless Chromium, over the
// scripted world of tests/support/trace-world.js (fetch, storage adapter, timers and both
// clocks replaced and recorded). What the executor did must be, step by step, what core did
// on the host (consult-core's tests/trace_equality.rs): a driver that decided anything itself —
// a status, a time, a retry — would leave another trace. Build the package first
// (scripts/test-package.sh does).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import { launchChromium, missingChromium, withTimeout } from "../support/browser.mjs";
import { ROOT, missingPackage, openPackagePage, packagePage, servePackage } from "../support/package-page.mjs";

const PAGE_PATH = "/trace-equality.html";
const STEP_TIMEOUT_MS = 30_000;
const TRACES = JSON.parse(readFileSync(resolve(ROOT, "crates/consult-core/tests/data/traces.json"), "utf8"));
const WORLD = readFileSync(resolve(ROOT, "tests/support/trace-world.js"), "utf8");

// The world first (a classic script's body is fine in a module), then the package.
const PAGE = packagePage({ title: "trace equality", script: WORLD });

const prerequisite = missingPackage() ?? missingChromium();
let server;
let browser;

before(async () => {
  if (prerequisite) return;
  server = await servePackage({ pages: { [PAGE_PATH]: PAGE } });
  browser = await launchChromium({ timeout: STEP_TIMEOUT_MS });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.close();
});

test("the JavaScript driver's executor does what core does, step by step, in every scenario", async () => {
  if (prerequisite) throw prerequisite;
  assert.ok(TRACES.scenarios.length >= 5, "traces.json has its scenarios");
  const context = await browser.newContext();
  const errors = [];
  try {
    const page = await openPackagePage(context, server.origin + PAGE_PATH, { timeout: STEP_TIMEOUT_MS, errors });
    const differences = await withTimeout(
      page.evaluate(async (file) => {
        const events = ["tokenRefreshed", "refreshFailed", "sessionExpired", "tokenChanged", "warning"];
        const withCode = new Set(["refreshFailed", "sessionExpired", "warning"]);
        const makeApp = ({ baseUrl, now, storage }) => {
          const client = new window.__ConsultClient({ baseUrl, storage, now, requestTimeoutMs: 0 });
          const sessions = [];
          return {
            setSession: (token, expiresIn) => client.setSession({ access_token: token, expires_in: expiresIn }),
            getValidToken: () => client.getValidToken(),
            refresh: () => client.refreshAuthToken(),
            signOut: () => client.signOut(),
            fetch: (path) => client.fetch(path).then((response) => response.status),
            connect: (report) => {
              const session = client.connectVideoSession({ sessionId: "s1", roomId: "r1", userId: "u1", role: "PATIENT" });
              session.on("state", ({ state, reason }) => report("state", `${state} ${reason}`));
              for (const name of ["joined_room", "participant_joined", "participant_left", "session_status", "error"]) {
                session.on(name, () => report(name));
              }
              sessions.push(session);
            },
            poll: (intervalMs, report) =>
              client.pollSession("s1", {
                intervalMs,
                onUpdate: (session) => report("update", session.status),
                onError: (error) => report("error", error.code),
                onEnd: (reason) => report("end", reason),
              }),
            onEvent: (record) => {
              for (const kind of events) client.on(kind, (value) => record(kind, withCode.has(kind) ? value?.code : null));
            },
            dispose: () => {
              for (const session of sessions.splice(0)) session.disconnect();
              client.dispose();
            },
          };
        };
        const lines = [];
        for (const scenario of file.scenarios) {
          const trace = await window.ConsultTraceWorld.run(file, scenario, makeApp);
          lines.push(...window.ConsultTraceWorld.differences(scenario, trace));
        }
        return lines;
      }, TRACES),
      STEP_TIMEOUT_MS,
      "running the scenarios",
    );
    assert.deepEqual(differences, [], `the JavaScript driver left another trace than core:\n${differences.join("\n")}`);
    assert.deepEqual(errors, [], "no page error");
  } finally {
    await context.close();
  }
});
