// Socket.IO interop of the built npm package (target/pkg, its browser entry) in a real
// headless Chromium page (Debian's /usr/bin/chromium through playwright-core), issue 4 test 5:
//
// (a) our client — `client.connectVideoSession(...)` — against the OFFICIAL npm `socket.io` 4.8
//     server (tests/support/socketio-server.mjs), which checks the tokens of a real consult-stub
//     started with a known secret; the stub stays the client's baseUrl (refresh endpoint);
// (b) `client.socketIoAuth()` as the `auth` of the OFFICIAL socket.io-client 4.8 (its browser
//     bundle, loaded in the same page) against consult-stub's own Socket.IO endpoint.
//
// Both include the expired-token path: a stored token that has expired but that the client
// believes valid (its `now` option runs 10 minutes behind), so the server refuses the handshake
// with "Token expired" and the token must be refreshed and read afresh.
//
// The page also records every Socket.IO CONNECT frame the page sends (`40{"token":…}`, by
// wrapping WebSocket.prototype.send), so a test can tell which token each handshake carried.
// Build the package first: scripts/build-package.sh (scripts/test-package.sh does).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { io as nodeIo } from "socket.io-client";

import { startStub } from "../interop/stub.js";
import { startSocketIoServer } from "../support/socketio-server.mjs";
import { launchChromium, missingChromium, missingFiles, withTimeout } from "../support/browser.mjs";
import { connectVideoSession, missingPackage, openPackagePage, packagePage, servePackage, short, storeToken } from "../support/package-page.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const SIO_CLIENT_BUNDLE = resolve(HERE, "..", "node_modules", "socket.io-client", "dist", "socket.io.min.js");
const PAGE_PATH = "/socketio.html";
const SIO_CLIENT_URL = "/socket.io-client/socket.io.min.js";
const REFRESH_PATH = "/api/video/auth/refresh-token";

const TEST_TIMEOUT_MS = 45_000;
const STEP_TIMEOUT_MS = 15_000; // any single page load / evaluation / wait for an event
const CLOCK_LAG_MS = 10 * 60_000; // the client's `now` runs this far behind Date.now()
const SECRET = randomBytes(32).toString("hex"); // shared by consult-stub and the socket.io server

// The page: socket.io-client's browser bundle (window.io), the package (window.__ConsultClient),
// a record of refresh requests and of every CONNECT frame sent over a WebSocket, and `__once`
// (the next of two socket.io-client events, bounded).
const PAGE = packagePage({
  title: "Socket.IO interop",
  head: `<script src="${SIO_CLIENT_URL}"></script>`,
  script: `window.__fetches = [];
const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = (input, init) => {
  window.__fetches.push(String(input?.url ?? input));
  return realFetch(input, init);
};
window.__connectFrames = [];
const sockets = new WeakMap();
let socketCount = 0;
const realSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  if (typeof data === "string" && data.startsWith("40")) {
    if (!sockets.has(this)) sockets.set(this, ++socketCount);
    let token = null;
    try { token = JSON.parse(data.slice(data.indexOf("{"))).token ?? null; } catch {}
    window.__connectFrames.push({ url: this.url, ws: sockets.get(this), token, at: Date.now() });
  }
  return realSend.call(this, data);
};
window.__once = (socket, ok, fail, ms) => new Promise((resolve) => {
  const done = (outcome) => {
    clearTimeout(timer);
    socket.off(ok, onOk);
    socket.off(fail, onFail);
    resolve(outcome);
  };
  const onOk = (value) => done({ event: ok, value: value ?? null });
  const onFail = (value) => done({ event: fail, value: value instanceof Error ? value.message : value ?? null });
  const timer = setTimeout(() => done({ event: "timeout", value: ok + " not within " + ms + " ms" }), ms);
  socket.on(ok, onOk);
  socket.on(fail, onFail);
});`,
  preflight: `  if (typeof window.io !== "function") throw new Error("socket.io-client's bundle did not define window.io");`,
});

/** A missing package (or bundle, or browser) is an error every test reports, not a crash of the file. */
const prerequisite =
  missingPackage() ??
  missingFiles([SIO_CLIENT_BUNDLE], () => `socket.io-client's browser bundle is missing at ${SIO_CLIENT_BUNDLE}: run scripts/setup.sh`) ??
  missingChromium();

let server; // the static server of PAGE, socket.io-client's bundle and the package files
let browser;
let stub;
let sio;
const nodeSockets = [];

before(async () => {
  if (prerequisite) return;
  server = await servePackage({ pages: { [PAGE_PATH]: PAGE }, files: { [SIO_CLIENT_URL]: SIO_CLIENT_BUNDLE } });

  stub = await startStub([], { secret: SECRET });
  sio = await startSocketIoServer({ secret: SECRET });

  browser = await launchChromium({ timeout: STEP_TIMEOUT_MS * 2 });
});

after(async () => {
  for (const socket of nodeSockets) socket.disconnect();
  await browser?.close().catch(() => {});
  await sio?.close();
  await stub?.stop();
  await server?.close();
});

// ---- helpers ----------------------------------------------------------------------------------

const uniqueUser = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function stubStats() {
  const { refresh_ok, refresh_rejected, socket_connect, socket_reject, join } = await stub.stats();
  return { refresh_ok, refresh_rejected, socket_connect, socket_reject, join };
}

function statsDelta(before, after) {
  return Object.fromEntries(Object.keys(before).map((key) => [key, after[key] - before[key]]));
}

/** A fresh context (own storage) with the page loaded; `errors` collects page errors. */
async function openPage() {
  if (prerequisite) throw prerequisite;
  const context = await browser.newContext();
  const errors = [];
  const page = await openPackagePage(context, server.origin + PAGE_PATH, { timeout: STEP_TIMEOUT_MS, errors });
  return { context, page, errors };
}

/** `window.client = new ConsultClient({ baseUrl })`, its clock `lagMs` behind Date.now(). */
function createClient(page, baseUrl, lagMs = 0) {
  return withTimeout(
    page.evaluate(
      ([baseUrl, lagMs]) => {
        const options = { baseUrl };
        if (lagMs) options.now = () => Date.now() - lagMs;
        window.client = new window.__ConsultClient(options);
      },
      [baseUrl, lagMs],
    ),
    STEP_TIMEOUT_MS,
    "creating the client",
  );
}

/** `window.session = client.connectVideoSession(options)`, every event recorded in `__video`. */
const connectVideo = (page, options) => connectVideoSession(page, options, STEP_TIMEOUT_MS);

/** Waits (bounded) until the video session recorded `event` or closed; returns the record. */
async function waitVideo(page, event, count = 1) {
  try {
    await page.waitForFunction(
      ([event, count]) =>
        window.__video.filter((e) => e.event === event).length >= count ||
        window.__video.some((e) => e.event === "state" && e.payload.state === "closed"),
      [event, count],
      { timeout: STEP_TIMEOUT_MS },
    );
  } catch (error) {
    if (!String(error).includes("Timeout")) throw error;
  }
  return page.evaluate(() => ({ events: window.__video, state: window.session.state }));
}

function storyOf(video, extra = []) {
  const line = (e) =>
    e.event === "state" ? `state ${e.payload.state} (${e.payload.reason})` : `${e.event} ${JSON.stringify(e.payload)}`;
  return `\n  events: ${video.events.map(line).join(" | ") || "none"}\n  state getter: ${video.state}` +
    extra.filter(Boolean).map((s) => `\n  ${s}`).join("");
}

const states = (video) => video.events.filter((e) => e.event === "state").map((e) => e.payload.state);

/** A node socket.io-client connected to the socket.io server (closed in after()). */
async function nodeSocket(token) {
  const socket = nodeIo(sio.url, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
  nodeSockets.push(socket);
  await withTimeout(
    new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    }),
    STEP_TIMEOUT_MS,
    "node socket.io-client connect",
  );
  return socket;
}

// ---- (a) our client against the official socket.io server ------------------------------------

test("(a) connectVideoSession joins a room on the official socket.io 4.8 server; presence, acks and disconnect work", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-sio");
    const minted = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Sio" });
    const roomId = `room-${randomUUID().slice(0, 8)}`;
    const logFrom = sio.log.length;
    await storeToken(page, minted);
    await createClient(page, stub.url);

    const initial = await connectVideo(page, { url: sio.url, sessionId: `s-${roomId}`, roomId, userId, role: "PATIENT" });
    const video = await waitVideo(page, "joined_room");
    const log = sio.log.slice(logFrom);
    const story = storyOf(video, [
      `server log: ${log.map((e) => `${e.type}${e.reason ? ` ${e.reason}` : ""}${e.token ? ` ${short(e.token)}` : ""}`).join(", ")}`,
      errors.length && `page errors: ${errors.join(" / ")}`,
    ]);

    assert.equal(initial, "connecting", `state right after connectVideoSession${story}`);
    const joined = video.events.find((e) => e.event === "joined_room")?.payload;
    assert.ok(joined, `no joined_room${story}`);
    assert.deepEqual(joined, {
      room_id: roomId,
      session_id: `s-${roomId}`,
      user_id: userId,
      role: "PATIENT",
      participants: [{ user_id: userId, role: "PATIENT", name: "Pat Sio" }],
    }, `joined_room payload${story}`);
    assert.equal(video.state, "joined", `state getter${story}`);
    assert.deepEqual(states(video), ["connecting", "connected", "joined"], `state events${story}`);
    assert.deepEqual(log.filter((e) => e.type === "rejected"), [], `no handshake refused${story}`);
    const connects = log.filter((e) => e.type === "connected");
    assert.equal(connects.length, 1, `one handshake accepted${story}`);
    assert.equal(connects[0].token, minted.access_token, `the stored token was sent${story}`);

    // Server → client events: another participant (node socket.io-client) joins and leaves.
    const other = uniqueUser("doctor-sio");
    const { access_token: otherToken } = await stub.mintToken({ user_id: other, role: "DOCTOR", name: "Doc Sio" });
    const bob = await nodeSocket(otherToken);
    const bobJoined = withTimeout(new Promise((done) => bob.once("joined_room", done)), STEP_TIMEOUT_MS, "bob's joined_room");
    bob.emit("join_room", { room_id: roomId, session_id: `s-${roomId}`, user_id: other, role: "DOCTOR", token: otherToken });
    const bobView = await bobJoined;
    assert.deepEqual(bobView.participants.map((p) => p.user_id).sort(), [userId, other].sort(), "bob sees both");
    const presence = await waitVideo(page, "participant_joined");
    assert.deepEqual(
      presence.events.find((e) => e.event === "participant_joined")?.payload,
      { room_id: roomId, user_id: other, role: "DOCTOR", name: "Doc Sio" },
      `participant_joined${storyOf(presence)}`,
    );

    // emit with an acknowledgement (421[...] → 431[...]).
    const ack = await withTimeout(
      page.evaluate(() => window.session.emit("echo", { n: 42, s: "ü" }, 5000)),
      STEP_TIMEOUT_MS,
      "emit with ack",
    );
    assert.deepEqual(ack, { echo: { n: 42, s: "ü" } }, "the acknowledgement's first argument");

    bob.disconnect();
    const left = await waitVideo(page, "participant_left");
    assert.deepEqual(
      left.events.find((e) => e.event === "participant_left")?.payload,
      { room_id: roomId, user_id: other, role: "DOCTOR", name: "Doc Sio" },
      `participant_left${storyOf(left)}`,
    );

    // disconnect(): closed at once, the server sees the client leave (no reconnect).
    const closed = await page.evaluate(() => {
      window.session.disconnect();
      return window.session.state;
    });
    assert.equal(closed, "closed", "state after disconnect()");
    const afterClose = await page.evaluate(() => window.session.emit("echo", {}, 1000).then(() => "sent", (e) => e.code));
    assert.equal(afterClose, "NETWORK", "an emit once closed is refused, not left waiting");
    const ours = connects[0].id;
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (!sio.log.some((e) => e.type === "disconnected" && e.id === ours) && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 20));
    }
    const gone = sio.log.find((e) => e.type === "disconnected" && e.id === ours);
    assert.ok(gone, "the server saw the client disconnect");
    assert.equal(gone.reason, "client namespace disconnect", "a clean Socket.IO DISCONNECT, not a dropped transport");
    await new Promise((done) => setTimeout(done, 300));
    assert.equal(sio.log.slice(logFrom).filter((e) => e.type === "connected" && e.sub === userId).length, 1, "no reconnect after disconnect()");
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
  } finally {
    await context.close().catch(() => {});
  }
});

test("(a) an expired token the client believes valid: \"Token expired\" → one refresh at the stub → reconnect → joined_room", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-sio-expired");
    const expired = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Expired", ttl_secs: -30 });
    const roomId = `room-${randomUUID().slice(0, 8)}`;
    await storeToken(page, expired);
    await createClient(page, stub.url, CLOCK_LAG_MS);
    // The premise: the client believes the stored token valid (so it will send it).
    const believed = await page.evaluate(async (refreshPath) => {
      const token = await window.client.getValidToken();
      return { token, refreshes: window.__fetches.filter((url) => url.includes(refreshPath)) };
    }, REFRESH_PATH);
    assert.equal(believed.token, expired.access_token, "with its clock 10 min behind, the client keeps the expired token");
    assert.deepEqual(believed.refreshes, [], "and does not refresh it");

    const before = await stubStats();
    const logFrom = sio.log.length;
    await connectVideo(page, { url: sio.url, sessionId: `s-${roomId}`, roomId, userId, role: "PATIENT" });
    const video = await waitVideo(page, "joined_room");
    const after = await stubStats();
    const delta = statsDelta(before, after);
    const log = sio.log.slice(logFrom);
    const page_ = await page.evaluate((refreshPath) => ({
      frames: window.__connectFrames,
      refreshes: window.__fetches.filter((url) => url.includes(refreshPath)).length,
      stored: localStorage.getItem("authToken"),
    }), REFRESH_PATH);
    const story = storyOf(video, [
      `server log: ${log.map((e) => `${e.type}${e.reason ? ` ${e.reason}` : ""}${e.token ? ` ${short(e.token)}` : ""}`).join(", ")}`,
      `CONNECT frames: ${page_.frames.map((f) => `ws#${f.ws} ${short(f.token)}`).join(", ")}`,
      `stub deltas ${JSON.stringify(delta)}; refresh requests from the page ${page_.refreshes}`,
      `expired token ${short(expired.access_token)}`,
      errors.length && `page errors: ${errors.join(" / ")}`,
    ]);

    const joined = video.events.find((e) => e.event === "joined_room")?.payload;
    assert.ok(joined, `no joined_room${story}`);
    assert.equal(joined.user_id, userId, `joined_room.user_id${story}`);
    assert.equal(joined.room_id, roomId, `joined_room.room_id${story}`);
    assert.equal(video.state, "joined", `state getter${story}`);

    // Exactly one rejection ("Token expired", the expired token), then one accepted handshake
    // with another token.
    const rejections = log.filter((e) => e.type === "rejected");
    const connects = log.filter((e) => e.type === "connected");
    assert.equal(rejections.length, 1, `exactly one refused handshake${story}`);
    assert.equal(rejections[0].reason, "Token expired", `refused as expired${story}`);
    assert.equal(rejections[0].token, expired.access_token, `the refused token is the stored one${story}`);
    assert.equal(connects.length, 1, `exactly one accepted handshake${story}`);
    assert.notEqual(connects[0].token, expired.access_token, `the accepted handshake carries a new token${story}`);
    assert.equal(connects[0].sub, userId, `for the same user${story}`);
    assert.ok(log.indexOf(rejections[0]) < log.indexOf(connects[0]), `refusal first, then the connect${story}`);

    // One refresh, at the stub, and its token is the one stored and sent.
    assert.equal(delta.refresh_ok, 1, `exactly one successful refresh at the stub${story}`);
    assert.equal(delta.refresh_rejected, 0, `no rejected refresh${story}`);
    assert.equal(page_.refreshes, 1, `one refresh request from the page${story}`);
    assert.equal(page_.stored, connects[0].token, `localStorage holds the token that connected${story}`);
    assert.deepEqual(page_.frames.map((f) => f.token), [expired.access_token, connects[0].token], `the CONNECT frames${story}`);

    // The states tell the story: refreshing (because of "Token expired"), then joined.
    const stateEvents = video.events.filter((e) => e.event === "state").map((e) => e.payload);
    const refreshing = stateEvents.find((s) => s.state === "refreshing");
    assert.ok(refreshing, `a "refreshing" state${story}`);
    assert.equal(refreshing.reason, "Token expired", `its reason${story}`);
    assert.equal(stateEvents.at(-1).state, "joined", `ends joined${story}`);
    assert.ok(!stateEvents.some((s) => s.state === "closed"), `never closed${story}`);
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
    await page.evaluate(() => window.session.disconnect());
  } finally {
    await context.close().catch(() => {});
  }
});

test("(a) a dropped transport: the client reconnects (reconnection.delayMs) and joins the room again", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-sio-drop");
    const minted = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Drop" });
    const roomId = `room-${randomUUID().slice(0, 8)}`;
    const logFrom = sio.log.length;
    await storeToken(page, minted);
    await createClient(page, stub.url);
    await connectVideo(page, {
      url: sio.url, sessionId: `s-${roomId}`, roomId, userId, role: "PATIENT",
      reconnection: { attempts: 3, delayMs: 100, maxDelayMs: 200 },
    });
    const first = await waitVideo(page, "joined_room");
    assert.equal(first.state, "joined", `joined first${storyOf(first)}`);

    // The server drops the Engine.IO connection (no Socket.IO DISCONNECT): not a "server
    // disconnect", so the client must come back by itself.
    const [server] = await sio.io.in(roomId).fetchSockets();
    assert.ok(server, "the server has our socket in the room");
    sio.io.sockets.sockets.get(server.id)?.conn.close();

    const video = await waitVideo(page, "joined_room", 2);
    const log = sio.log.slice(logFrom);
    const story = storyOf(video, [
      `server log: ${log.map((e) => `${e.type}${e.reason ? ` ${e.reason}` : ""}`).join(", ")}`,
      errors.length && `page errors: ${errors.join(" / ")}`,
    ]);
    assert.equal(video.events.filter((e) => e.event === "joined_room").length, 2, `joined_room again${story}`);
    assert.equal(video.state, "joined", `state getter${story}`);
    const seq = states(video);
    assert.deepEqual(seq.slice(0, 3), ["connecting", "connected", "joined"], `first connect${story}`);
    assert.ok(seq.includes("reconnecting"), `a "reconnecting" state${story}`);
    assert.equal(seq.at(-1), "joined", `ends joined${story}`);
    assert.equal(log.filter((e) => e.type === "connected").length, 2, `two accepted handshakes${story}`);
    assert.equal(log.filter((e) => e.type === "joined").length, 2, `two joins${story}`);
    assert.deepEqual(log.filter((e) => e.type === "rejected"), [], `no refusal${story}`);
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
    await page.evaluate(() => window.session.disconnect());
  } finally {
    await context.close().catch(() => {});
  }
});

test("(a) what no token can fix: an unknown namespace (\"Invalid namespace\") and a server DISCONNECT close without a refresh or a reconnect; a server error event is delivered", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-sio-final");
    const minted = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Final" });
    const roomId = `room-${randomUUID().slice(0, 8)}`;
    const options = { url: sio.url, sessionId: `s-${roomId}`, roomId, userId, role: "PATIENT", reconnection: { delayMs: 100, maxDelayMs: 200 } };
    await storeToken(page, minted);
    await createClient(page, stub.url);
    const before = await stubStats();

    // 1. A namespace the server does not have: 44/nope,{"message":"Invalid namespace"}.
    let logFrom = sio.log.length;
    await connectVideo(page, { ...options, namespace: "/nope" });
    const refused = await waitVideo(page, "joined_room");
    const refusedStory = storyOf(refused, [errors.length && `page errors: ${errors.join(" / ")}`]);
    const last = refused.events.filter((e) => e.event === "state").at(-1)?.payload;
    assert.deepEqual(last, { state: "closed", reason: "Invalid namespace" }, `closed by the refusal${refusedStory}`);
    assert.ok(!states(refused).includes("refreshing"), `no refresh for a non-auth error${refusedStory}`);
    assert.deepEqual(sio.log.slice(logFrom), [], "the root namespace's middleware never ran");

    // 2. The server disconnects the socket (41): closed, no reconnect.
    logFrom = sio.log.length;
    await connectVideo(page, options);
    const joined = await waitVideo(page, "joined_room");
    assert.equal(joined.state, "joined", `joined${storyOf(joined)}`);
    sio.io.in(roomId).disconnectSockets();
    await page.waitForFunction(() => window.session.state === "closed", null, { timeout: STEP_TIMEOUT_MS }).catch(() => {});
    await new Promise((done) => setTimeout(done, 500)); // longer than the reconnect delay
    const video = await page.evaluate(() => ({ events: window.__video, state: window.session.state }));
    const story = storyOf(video, [`server log: ${sio.log.slice(logFrom).map((e) => `${e.type}${e.reason ? ` ${e.reason}` : ""}`).join(", ")}`]);
    assert.equal(video.state, "closed", `closed after the server's DISCONNECT${story}`);
    assert.deepEqual(video.events.filter((e) => e.event === "state").at(-1)?.payload, { state: "closed", reason: "server disconnect" }, `reason${story}`);
    assert.equal(sio.log.slice(logFrom).filter((e) => e.type === "connected").length, 1, `no reconnect${story}`);

    // 3. join_room as someone else: the server's error event reaches on("error"); still connected.
    await connectVideo(page, { ...options, userId: `${userId}-impostor` });
    const wrong = await waitVideo(page, "error");
    const wrongStory = storyOf(wrong);
    const error = wrong.events.find((e) => e.event === "error")?.payload;
    assert.equal(error?.code, "not_a_participant", `the server's error event${wrongStory}`);
    assert.equal(typeof error?.message, "string", `with a message${wrongStory}`);
    assert.equal(wrong.state, "connected", `connected but not joined${wrongStory}`);
    assert.ok(!wrong.events.some((e) => e.event === "joined_room"), `no joined_room${wrongStory}`);
    await page.evaluate(() => window.session.disconnect());

    assert.equal(statsDelta(before, await stubStats()).refresh_ok, 0, "no refresh at all");
    t.diagnostic(`${refusedStory.trim()} || ${story.trim()} || ${wrongStory.trim()}`.replaceAll("\n  ", " | "));
  } finally {
    await context.close().catch(() => {});
  }
});

test("(a) the refresh itself is refused (token past the stub's refresh grace): closed \"session expired\", sessionExpired, storage cleared", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-sio-over");
    // Expired 2 h ago (the stub refreshes up to 1 h after exp); the client's clock is 3 h behind.
    const stale = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Over", ttl_secs: -7200 });
    const roomId = `room-${randomUUID().slice(0, 8)}`;
    await storeToken(page, stale);
    await createClient(page, stub.url, 3 * 3600_000);
    await page.evaluate(() => {
      window.__expired = [];
      window.client.on("sessionExpired", (error) => window.__expired.push(error.code));
    });
    const before = await stubStats();
    const logFrom = sio.log.length;
    await connectVideo(page, { url: sio.url, sessionId: `s-${roomId}`, roomId, userId, role: "PATIENT", reconnection: { delayMs: 100, maxDelayMs: 200 } });
    const video = await waitVideo(page, "joined_room");
    const delta = statsDelta(before, await stubStats());
    const after = await page.evaluate(() => ({ expired: window.__expired, stored: localStorage.getItem("authToken") }));
    const log = sio.log.slice(logFrom);
    const story = storyOf(video, [
      `server log: ${log.map((e) => `${e.type}${e.reason ? ` ${e.reason}` : ""}`).join(", ")}`,
      `stub deltas ${JSON.stringify(delta)}; sessionExpired ${JSON.stringify(after.expired)}`,
      errors.length && `page errors: ${errors.join(" / ")}`,
    ]);
    assert.deepEqual(video.events.filter((e) => e.event === "state").at(-1)?.payload, { state: "closed", reason: "session expired" }, `closed${story}`);
    assert.ok(states(video).includes("refreshing"), `it tried a refresh${story}`);
    assert.equal(delta.refresh_rejected, 1, `one refused refresh${story}`);
    assert.equal(delta.refresh_ok, 0, `no successful refresh${story}`);
    assert.deepEqual(log.map((e) => `${e.type} ${e.reason ?? ""}`.trim()), ["rejected Token expired"], `one refusal, no connect${story}`);
    assert.deepEqual(after.expired, ["REFRESH_REJECTED"], `sessionExpired fired once${story}`);
    assert.equal(after.stored, null, `storage cleared${story}`);
    await new Promise((done) => setTimeout(done, 400)); // longer than the reconnect delay
    assert.equal(sio.log.length - logFrom, log.length, "no further attempt");
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
  } finally {
    await context.close().catch(() => {});
  }
});

// ---- (b) socketIoAuth() with the official socket.io-client against consult-stub ----------------

/** In the page: `window.sock = io(stubUrl, { auth: client.socketIoAuth(), … })`, first outcome. */
function openOfficialSocket(page, url) {
  return withTimeout(
    page.evaluate(
      ([url, ms]) => {
        window.sock = window.io(url, {
          auth: window.client.socketIoAuth(),
          transports: ["websocket"],
          reconnection: false,
          forceNew: true,
        });
        return window.__once(window.sock, "connect", "connect_error", ms);
      },
      [url, STEP_TIMEOUT_MS],
    ),
    STEP_TIMEOUT_MS + 2_000,
    "io(stub, { auth: client.socketIoAuth() })",
  );
}

/** In the page: join_room with `await client.getValidToken()`; the answer or the error event. */
function joinWithCurrentToken(page, payload) {
  return withTimeout(
    page.evaluate(
      async ([payload, ms]) => {
        const token = await window.client.getValidToken();
        const reply = window.__once(window.sock, "joined_room", "error", ms);
        window.sock.emit("join_room", { ...payload, token });
        return { token, ...(await reply) };
      },
      [payload, STEP_TIMEOUT_MS],
    ),
    STEP_TIMEOUT_MS + 2_000,
    "join_room",
  );
}

test("(b) io(stub, { auth: client.socketIoAuth() }) with the official socket.io-client connects, and join_room answers joined_room", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-auth-fn");
    const minted = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Auth" });
    const session = await stub.createSession({ status: "waiting", participants: [userId] });
    await storeToken(page, minted);
    await createClient(page, stub.url);

    const before = await stubStats();
    const opened = await openOfficialSocket(page, stub.url);
    const story = () => `\n  page errors: ${errors.join(" / ") || "none"}`;
    assert.equal(opened.event, "connect", `expected connect, got ${opened.event}: ${opened.value}${story()}`);
    const joined = await joinWithCurrentToken(page, { room_id: session.room_id, session_id: session.session_id, user_id: userId, role: "PATIENT" });
    assert.equal(joined.event, "joined_room", `expected joined_room, got ${joined.event}: ${JSON.stringify(joined.value)}${story()}`);
    assert.equal(joined.token, minted.access_token, "getValidToken() returned the stored token");
    assert.deepEqual(joined.value, {
      room_id: session.room_id,
      session_id: session.session_id,
      user_id: userId,
      role: "PATIENT",
      participants: [{ user_id: userId, role: "PATIENT", name: "Pat Auth" }],
    }, "joined_room payload");

    const frames = await page.evaluate(() => window.__connectFrames);
    assert.deepEqual(frames.map((f) => f.token), [minted.access_token], "the auth function gave the stored token to the CONNECT");
    const delta = statsDelta(before, await stubStats());
    assert.deepEqual(
      { socket_connect: delta.socket_connect, socket_reject: delta.socket_reject, join: delta.join, refresh_ok: delta.refresh_ok },
      { socket_connect: 1, socket_reject: 0, join: 1, refresh_ok: 0 },
      `stub counters ${JSON.stringify(delta)}`,
    );
    t.diagnostic(`stub deltas ${JSON.stringify(delta)}; CONNECT frames ${frames.map((f) => short(f.token)).join(", ")}`);
    await page.evaluate(() => window.sock.disconnect());
  } finally {
    await context.close().catch(() => {});
  }
});

test("(b) socketIoAuth() reads the token afresh: \"Token expired\" → refreshAuthToken() → socket.connect() connects with the new token", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-auth-fn-expired");
    const expired = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Fresh", ttl_secs: -30 });
    const session = await stub.createSession({ status: "waiting", participants: [userId] });
    await storeToken(page, expired);
    await createClient(page, stub.url, CLOCK_LAG_MS);

    const before = await stubStats();
    const first = await openOfficialSocket(page, stub.url);
    const story = () => `\n  page errors: ${errors.join(" / ") || "none"}`;
    assert.equal(first.event, "connect_error", `the expired token must be refused, got ${first.event}: ${first.value}${story()}`);
    assert.equal(first.value, "Token expired", "the connect_error message");
    const refusedDelta = statsDelta(before, await stubStats());
    assert.equal(refusedDelta.refresh_ok, 0, "socketIoAuth() did not refresh a token it believes valid");

    const second = await withTimeout(
      page.evaluate(async (ms) => {
        const refreshed = await window.client.refreshAuthToken();
        const outcome = window.__once(window.sock, "connect", "connect_error", ms);
        window.sock.connect();
        return { refreshed, ...(await outcome) };
      }, STEP_TIMEOUT_MS),
      STEP_TIMEOUT_MS + 2_000,
      "refreshAuthToken(); socket.connect()",
    );
    assert.equal(second.event, "connect", `after the refresh, expected connect, got ${second.event}: ${second.value}${story()}`);
    assert.notEqual(second.refreshed, expired.access_token, "refreshAuthToken() returned a new token");

    const joined = await joinWithCurrentToken(page, { room_id: session.room_id, session_id: session.session_id, user_id: userId, role: "PATIENT" });
    assert.equal(joined.event, "joined_room", `expected joined_room, got ${joined.event}: ${JSON.stringify(joined.value)}${story()}`);
    assert.equal(joined.token, second.refreshed, "getValidToken() returns the refreshed token");
    assert.equal(joined.value.user_id, userId);

    const frames = await page.evaluate(() => window.__connectFrames);
    const delta = statsDelta(before, await stubStats());
    const detail = `stub deltas ${JSON.stringify(delta)}; CONNECT frames ${frames.map((f) => `ws#${f.ws} ${short(f.token)}`).join(", ")}; expired ${short(expired.access_token)}, refreshed ${short(second.refreshed)}`;
    assert.deepEqual(
      frames.map((f) => f.token),
      [expired.access_token, second.refreshed],
      `the auth function is called at each connect and gives the current token: ${detail}`,
    );
    assert.deepEqual(
      { socket_reject: delta.socket_reject, socket_connect: delta.socket_connect, refresh_ok: delta.refresh_ok, refresh_rejected: delta.refresh_rejected, join: delta.join },
      { socket_reject: 1, socket_connect: 1, refresh_ok: 1, refresh_rejected: 0, join: 1 },
      `stub counters: ${detail}`,
    );
    t.diagnostic(detail);
    await page.evaluate(() => window.sock.disconnect());
  } finally {
    await context.close().catch(() => {});
  }
});
