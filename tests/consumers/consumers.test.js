// The npm package as users install it: `npm pack` of target/pkg, the tarball installed (not a
// folder link) into small apps — Vite (production build, and the dev server loading the page),
// webpack 5, and a Node 20 ES module — with no bundler configuration at all. Each app runs
// tests/consumers/scenario.js against a real consult-stub: sign in with an expired token, one
// refresh, in Chromium join the session's room, poll the session until the test ends it. Both
// entries run in a bundler: the main one (the room joined) and consult-client/slim (no video
// session: connectVideoSession throws a TypeError). Build the package first:
// scripts/build-package.sh (scripts/test-package.sh does).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

import { startStub } from "../interop/stub.js";
import { launchChromium, missingChromium, serveStatic, withTimeout } from "../support/browser.mjs";
import { BIN, ENTRIES, builds, installApp, packPackage } from "./apps.mjs";

const STEP_MS = 60_000;

let stub;
let packed;
before(async () => {
  packed = packPackage();
  stub = await startStub();
});
after(async () => {
  await stub?.stop();
  if (packed) rmSync(packed.work, { recursive: true, force: true });
});

const [MAIN, SLIM] = ENTRIES;
const app = (name, entry = MAIN) => installApp(name, packed, entry);
/** What the scenario's room step reports with each entry. */
const ROOM = { [MAIN]: "joined", [SLIM]: "absent" };

/** The scenario's steps as reported, ending the session when the app reports it. */
async function followReport(readSteps) {
  const steps = {};
  let patched = false;
  const deadline = Date.now() + STEP_MS;
  while (Date.now() < deadline) {
    for (const { step, value } of await readSteps()) steps[step] = value;
    if (steps.error !== undefined) assert.fail(`the app reported an error: ${steps.error}`);
    if (steps.session && !patched) {
      await stub.patchSession(steps.session, "ended");
      patched = true;
    }
    if (steps.end !== undefined) return steps;
    await new Promise((done) => setTimeout(done, 50));
  }
  assert.fail(`the scenario did not finish: ${JSON.stringify(steps)}`);
}

function assertScenario(steps, where, room) {
  assert.equal(steps.refreshed, true, `${where}: the expired token was refreshed once`);
  assert.equal(steps.video, room, `${where}: the room step`);
  assert.equal(steps.end, "ended", `${where}: polling ended with the session`);
}

/** Opens `url` in Chromium and follows the page's report; no page error may occur. */
async function inChromium(url, where, entry) {
  const prerequisite = missingChromium();
  if (prerequisite) throw prerequisite;
  const browser = await launchChromium({ timeout: STEP_MS });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    await page.goto(`${url}?stub=${encodeURIComponent(stub.url)}`);
    const read = async () =>
      (await page.textContent("#report"))
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    const steps = await followReport(read);
    assertScenario(steps, where, ROOM[entry]);
    assert.deepEqual(errors, [], `${where}: no error in the page`);
  } finally {
    await browser.close();
  }
}

test("Vite 8: production build of a consult-client/slim app, served as static files", { timeout: 3 * STEP_MS }, async () => {
  const dir = app("vite", SLIM);
  builds.vite(dir);
  const server = await serveStatic({ root: join(dir, "dist"), allowPrefix: "/" });
  try {
    await inChromium(`${server.origin}/index.html`, "vite build (slim)", SLIM);
  } finally {
    await server.close();
  }
});

test("Vite 8: the dev server (dependency pre-bundling) loads the page", { timeout: 3 * STEP_MS }, async () => {
  const dir = app("vite");
  const server = spawn(join(BIN, "vite"), ["--host", "127.0.0.1", "--port", "0"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const origin = await withTimeout(
      new Promise((found) => {
        createInterface({ input: server.stdout }).on("line", (line) => {
          // eslint-disable-next-line no-control-regex
          const match = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(line.replace(/\x1b\[[0-9;]*m/g, ""));
          if (match) found(match[1]);
        });
      }),
      STEP_MS,
      "vite dev server address",
    );
    await inChromium(`${origin}/index.html`, "vite dev", MAIN);
  } finally {
    server.kill("SIGTERM");
  }
});

for (const entry of ENTRIES) {
  test(`webpack 5: production build of a ${entry} app with no configuration file`, { timeout: 3 * STEP_MS }, async () => {
    const dir = app("webpack", entry);
    builds.webpack(dir);
    const server = await serveStatic({ root: join(dir, "dist"), allowPrefix: "/" });
    try {
      await inChromium(`${server.origin}/index.html`, `webpack (${entry})`, entry);
    } finally {
      await server.close();
    }
  });
}

test("Node 20: an ES module imports the package by name (no init, no fetch of file: URLs)", { timeout: 2 * STEP_MS }, async () => {
  const dir = app("node");
  const child = spawn(process.execPath, ["main.mjs", stub.url], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const lines = [];
  createInterface({ input: child.stdout }).on("line", (line) => lines.push(JSON.parse(line)));
  const exited = new Promise((done) => child.once("close", done));
  const steps = await followReport(async () => lines.splice(0));
  assertScenario(steps, "node", undefined); // no WebSocket in Node 20: no room step
  assert.equal(await withTimeout(exited, STEP_MS, "node app exit"), 0, `the app exits cleanly: ${stderr}`);
});
