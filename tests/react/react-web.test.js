// consult-client/react in a React 19 web app: the packed package (npm pack of target/pkg) installed
// into tests/react/app, served by Vite's dev server (development React: StrictMode mounts every
// effect twice) and built by `vite build`, each page run in Chromium against a real consult-stub:
//   - four components and the screen ask for a valid token after a sign-in with an expired one:
//     one refresh, one token for all;
//   - StrictMode's double mount opens one room (one socket, one join) and one poller per session
//     (two components show each): the stub counts the requests;
//   - the session ends: every component shows it, polling stops, the room is left;
//   - unmounting the app closes the room (another participant, with socket.io-client, sees it
//     leave) and leaves no listener on the client.
// Build the package first: scripts/build-package.sh (scripts/test-react.sh does).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

import { io } from "socket.io-client";

import { startStub } from "../interop/stub.js";
import { launchChromium, missingChromium, serveStatic, withTimeout } from "../support/browser.mjs";
import { BIN, bundle } from "../consumers/apps.mjs";
import { installReactApp, packForReact } from "./apps.mjs";

const STEP_MS = 60_000;
const POLL_MS = 300;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

let stub;
let packed;
before(async () => {
  packed = packForReact();
  stub = await startStub();
});
after(async () => {
  await stub?.stop();
  if (packed) rmSync(packed.work, { recursive: true, force: true });
});

/** Opens the app at `origin` in Chromium and runs the scenario; no page error may occur. */
async function scenario(origin, where, { strictMode }) {
  const prerequisite = missingChromium();
  if (prerequisite) throw prerequisite;
  const user = "react-" + Math.random().toString(36).slice(2, 10);
  const expired = await stub.mintToken({ user_id: user, ttl_secs: -60 });
  const session = await stub.createSession({ participants: [user, "doctor"] });
  const doctor = await doctorInRoom(session);
  const start = await stub.stats();
  const since = async () => {
    const now = await stub.stats();
    return Object.fromEntries(Object.keys(now).map((key) => [key, now[key] - (start[key] ?? 0)]));
  };

  const browser = await launchChromium({ timeout: STEP_MS });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
    const query = new URLSearchParams({ stub: stub.url, session: session.session_id, room: session.room_id, user, signIn: JSON.stringify(expired) });
    await page.goto(`${origin}/index.html?${query}`);
    const text = (id) => page.textContent(`[data-testid="${id}"]`);
    const until = (id, expected) =>
      page.waitForFunction(([id, expected]) => document.querySelector(`[data-testid="${id}"]`)?.textContent === expected, [id, expected], { timeout: STEP_MS });

    // One refresh for every component; all hold the same new token.
    await until("room", "joined");
    await until("room-badge", "joined");
    await until("status-line", "scheduled");
    const tokens = await Promise.all([1, 2, 3, 4].map((id) => text(`token-${id}`)));
    assert.equal(new Set(tokens).size, 1, `${where}: one token for every component: ${tokens}`);
    assert.notEqual(tokens[0], expired.access_token, `${where}: the expired token was replaced`);
    assert.deepEqual((await text("participants")).split(",").sort(), ["doctor", user].sort());
    assert.equal(await text("refreshing"), "false");
    // The token state's five listeners on the client, once for all components and both mounts.
    assert.equal(await page.evaluate(() => window.clientListeners()), 5, `${where}: the client's listeners`);

    // One poller for the two components (and StrictMode's second mount), one socket, one join.
    const before = await since();
    await sleep(POLL_MS * 10);
    const counts = await since();
    const polls = counts.session_get - before.session_get;
    assert.equal(counts.refresh_ok, 1, `${where}: one refresh`);
    assert.equal(counts.socket_connect, 1, `${where}: one socket${strictMode ? " under StrictMode" : ""}`);
    assert.equal(counts.join, 1, `${where}: one join`);
    assert.ok((await stub.stats()).session_in_flight_max <= 1, `${where}: polls never overlap`);
    assert.ok(polls >= 3 && polls <= 12, `${where}: one poller every ${POLL_MS} ms: ${polls} polls in ${POLL_MS * 10} ms`);

    // The session ends: both components show it, polling ends, the room is left.
    await stub.patchSession(session.session_id, "ended");
    await until("end", "ended");
    assert.equal(await text("status"), "ended");
    assert.equal(await text("status-line"), "ended");
    await until("room", "idle"); // the screen left the room; the badge still shows it
    assert.equal(await text("room-badge"), "joined");
    const ended = (await since()).session_get;
    await sleep(POLL_MS * 4);
    assert.equal((await since()).session_get, ended, `${where}: no poll after the end`);

    // Unmounting the app closes the room: the doctor sees the patient leave.
    const left = doctor.left(user);
    await page.evaluate(() => window.unmountApp());
    await withTimeout(left, 10_000, `${where}: participant_left after unmount`);
    assert.equal(await page.evaluate(() => window.clientListeners()), 0, `${where}: no listener left on the client`);
    assert.deepEqual(errors, [], `${where}: no error in the page`);
  } finally {
    doctor.socket.disconnect();
    await browser.close();
  }
}

/** Another participant in the session's room, with the official socket.io-client. */
async function doctorInRoom(session) {
  const { access_token: token } = await stub.mintToken({ user_id: "doctor", role: "DOCTOR" });
  const socket = io(stub.url, { auth: { token }, transports: ["websocket"], reconnection: false });
  const joined = new Promise((done, fail) => {
    socket.on("joined_room", done);
    socket.on("connect_error", fail);
  });
  socket.on("connect", () => {
    socket.emit("join_room", { room_id: session.room_id, session_id: session.session_id, user_id: "doctor", role: "DOCTOR", token });
  });
  await withTimeout(joined, STEP_MS, "the doctor's join");
  const left = (user) => new Promise((done) => socket.on("participant_left", (p) => p.user_id === user && done()));
  return { socket, left };
}

test("Vite dev server, React 19 StrictMode: one refresh, one poller, one room, the session followed to its end", { timeout: 3 * STEP_MS }, async () => {
  const dir = installReactApp(packed, "dev");
  const server = spawn(join(BIN, "vite"), ["--host", "127.0.0.1", "--port", "0"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
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
    await scenario(origin, "vite dev", { strictMode: true });
  } finally {
    server.kill("SIGTERM");
  }
});

test("vite build (production React), served as static files: the same scenario", { timeout: 3 * STEP_MS }, async () => {
  const dir = installReactApp(packed, "build");
  bundle(dir, "vite", ["build", "--logLevel", "warn"]);
  const server = await serveStatic({ root: join(dir, "dist"), allowPrefix: "/" });
  try {
    await scenario(server.origin, "vite build", { strictMode: false });
  } finally {
    await server.close();
  }
});
