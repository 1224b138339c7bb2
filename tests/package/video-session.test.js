// The Socket.IO client of the built npm package (target/pkg, its browser entry) —
// `client.connectVideoSession(...)` — in a real headless Chromium page (Debian's /usr/bin/chromium
// through playwright-core) against the real consult-stub binary (target/debug/consult-stub), issue
// 4's scenarios: the JS-package port of crates/consult-client/tests/video_session.rs.
//
//   1. a valid token joins; a second client's join arrives as participant_joined, a PATCH of the
//      session as session_status; an expired token → "Token expired" → one refresh → joined;
//   2. the server is killed and restarted (same port, same secret) while the token expires:
//      the client reconnects, refreshes and joins again with the NEW token (/api/dev/joins);
//   3. the same outage, but the restarted server refuses the refresh (401): one refresh for the
//      one refused CONNECT, then closed "session expired", sessionExpired, no loop;
//   4. an unknown namespace ("Invalid namespace"): closed, no refresh at all;
//   6. a frozen server (SIGSTOP, 1 s ping interval and timeout): the client notices within
//      pingInterval + pingTimeout (+ slack), reconnects once the server runs again (SIGCONT).
//
// Only the package's public API is used. The page also records, for
// the assertions, the refresh requests it sends (a fetch wrapper), the WebSockets it opens and
// the token of every Socket.IO CONNECT frame (WebSocket wrappers). The test controls the stub
// processes directly: SIGKILL + start again on the same port, SIGSTOP/SIGCONT.
// Build the package first: scripts/build-package.sh (scripts/test-package.sh does); the stub:
// cargo build -p consult-stub.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";

import { startStub } from "../interop/stub.js";
import { launchChromium, missingChromium, withTimeout } from "../support/browser.mjs";
import { connectVideoSession, missingPackage, missingStub, openPackagePage, packagePage, servePackage, short, storeToken } from "../support/package-page.mjs";

const PAGE_PATH = "/video-session.html";
const REFRESH_PATH = "/api/video/auth/refresh-token";

const TEST_TIMEOUT_MS = 30_000;
const STEP_TIMEOUT_MS = 10_000; // any single page load / evaluation / wait for an event
const CLOCK_LAG_MS = 10 * 60_000; // where used, the client's `now` runs this far behind Date.now()
const REJOIN_WITHIN_MS = 10_000; // scenario 2: joined again within this after the restart
// Scenario 6: the stub's Engine.IO pingInterval and pingTimeout, and the slack the Rust test
// allows on top of their sum (timers, a loaded machine).
const PING_MS = 1_000;
const PING_SLACK_MS = 1_500;
const PING_ARGS = ["--ping-interval", `${PING_MS}ms`, "--ping-timeout", `${PING_MS}ms`];
const NO_LOOP_WATCH_MS = 1_500; // after a final close, watch this long for further attempts

// The page: the package (window.__ConsultClient), and records of its refresh requests, its
// WebSockets and the token of each CONNECT frame (`40{"token":…}` or `40/nsp,{"token":…}`).
const PAGE = packagePage({
  title: "video session",
  script: `window.__refreshes = [];
const realFetch = globalThis.fetch.bind(globalThis);
globalThis.fetch = (input, init) => {
  const url = String(input?.url ?? input);
  if (url.includes("${REFRESH_PATH}")) window.__refreshes.push({ url, at: Date.now() });
  return realFetch(input, init);
};
window.__sockets = [];
window.__connectFrames = [];
const RealWebSocket = window.WebSocket;
window.WebSocket = class extends RealWebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    window.__sockets.push({ url: String(url), at: Date.now() });
  }
};
const realSend = RealWebSocket.prototype.send;
RealWebSocket.prototype.send = function (data) {
  if (typeof data === "string" && data.startsWith("40")) {
    let token = null;
    try { token = JSON.parse(data.slice(data.indexOf("{"))).token ?? null; } catch {}
    window.__connectFrames.push({ token, at: Date.now() });
  }
  return realSend.call(this, data);
};`,
});

/** A missing package, stub binary or browser is an error every test reports, not a crash of the file. */
const prerequisite = missingPackage() ?? missingStub() ?? missingChromium();

let server; // the static server of PAGE and the package files
let browser;
let stub; // the shared consult-stub of scenarios 1 and 4
const restartables = []; // the per-test stubs that get killed, restarted, paused

before(async () => {
  if (prerequisite) return;
  server = await servePackage({ pages: { [PAGE_PATH]: PAGE } });
  stub = await startStub();
  browser = await launchChromium({ timeout: STEP_TIMEOUT_MS * 2 });
});

after(async () => {
  await browser?.close().catch(() => {});
  await Promise.allSettled([stub?.stop(), ...restartables.map((r) => r.stop())]);
  await server?.close();
});

// ---- helpers ----------------------------------------------------------------------------------

const uniqueUser = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** The `jti` claim of a JWT (its payload is not checked here, the server does that). */
function jti(token) {
  return JSON.parse(Buffer.from(String(token).split(".")[1] ?? "", "base64url").toString("utf8")).jti;
}

/** The `exp` claim of a JWT, Unix seconds. */
function exp(token) {
  return JSON.parse(Buffer.from(String(token).split(".")[1] ?? "", "base64url").toString("utf8")).exp;
}

const COUNTERS = ["refresh_ok", "refresh_rejected", "socket_connect", "socket_reject", "join"];

async function counters(of) {
  const stats = await of.stats();
  return Object.fromEntries(COUNTERS.map((key) => [key, stats[key]]));
}

/** The counters of a stub process that has just started. */
const ZERO = Object.freeze(Object.fromEntries(COUNTERS.map((key) => [key, 0])));

function delta(before, after) {
  return Object.fromEntries(COUNTERS.map((key) => [key, after[key] - before[key]]));
}

/** `GET /api/dev/joins`: the stub's latest successful joins {user_id, room_id, jti}, oldest first. */
const joinsOf = (of) => of.request("GET", "/api/dev/joins");

/**
 * A consult-stub the test may kill and start again on the same port with the same secret
 * (tokens minted before stay valid), or freeze (SIGSTOP) and thaw (SIGCONT). `current` is the
 * running instance (its dev endpoints), `url` stays the same across restarts.
 */
async function restartableStub(args) {
  const secret = randomBytes(32).toString("hex");
  let current = await startStub(args, { secret });
  const port = Number(new URL(current.url).port);
  let running = true;
  let paused = false;
  const handle = {
    url: current.url,
    get current() {
      return current;
    },
    /** A crash: SIGKILL, the connections drop without any Socket.IO or WebSocket goodbye. */
    async kill() {
      if (!running) return;
      if (paused) handle.resume();
      process.kill(current.pid, "SIGKILL");
      await current.stop(); // waits for the exit (and unregisters the exit hook)
      running = false;
    },
    /** Starts a new process on the same port (a few tries: the port may linger for a moment). */
    async start() {
      let lastError;
      for (let attempt = 0; attempt < 5; attempt += 1) {
        try {
          current = await startStub(args, { secret, port });
          running = true;
          return Date.now();
        } catch (error) {
          lastError = error;
          await sleep(200);
        }
      }
      throw lastError;
    },
    pause() {
      process.kill(current.pid, "SIGSTOP");
      paused = true;
      return Date.now();
    },
    resume() {
      if (!paused) return;
      process.kill(current.pid, "SIGCONT");
      paused = false;
    },
    /** For after(): SIGCONT first (a stopped process does not act on SIGTERM), then stop. */
    async stop() {
      if (!running) return;
      handle.resume();
      await current.stop();
      running = false;
    },
  };
  restartables.push(handle);
  return handle;
}

/** A fresh context (own storage) with the page loaded; `errors` collects page errors. */
async function openPage(name = "page") {
  if (prerequisite) throw prerequisite;
  const context = await browser.newContext();
  const errors = [];
  const page = await openPackagePage(context, server.origin + PAGE_PATH, { timeout: STEP_TIMEOUT_MS, name, errors });
  return { context, page, errors };
}

/**
 * `window.client = new ConsultClient({ baseUrl, autoRefresh: false })`, its clock `lagMs` behind
 * Date.now(); `sessionExpired` events are recorded in `window.__expired`; `grant`, if given, is
 * handed to `setSession` (instead of a token put in storage beforehand).
 */
function createClient(page, baseUrl, { lagMs = 0, grant = null } = {}) {
  return withTimeout(
    page.evaluate(
      async ([baseUrl, lagMs, grant]) => {
        const options = { baseUrl, autoRefresh: false };
        if (lagMs) options.now = () => Date.now() - lagMs;
        window.client = new window.__ConsultClient(options);
        window.__expired = [];
        window.client.on("sessionExpired", (error) => window.__expired.push(error?.code ?? String(error)));
        if (grant) await window.client.setSession(grant);
      },
      [baseUrl, lagMs, grant],
    ),
    STEP_TIMEOUT_MS,
    "creating the client",
  );
}

/** `window.session = client.connectVideoSession(options)`, every event recorded in `__video`. */
const connectVideo = (page, options) => connectVideoSession(page, options, STEP_TIMEOUT_MS);

/** What the page knows: the session's events and state, its requests, sockets, CONNECT frames. */
function snapshot(page) {
  return page.evaluate(() => ({
    events: window.__video ?? [],
    state: window.session?.state ?? null,
    refreshes: window.__refreshes.length,
    sockets: window.__sockets.length,
    frames: window.__connectFrames,
    expired: window.__expired ?? [],
    token: window.client?.tokenInfo()?.token ?? null,
    stored: localStorage.getItem("authToken"),
  }));
}

/**
 * Waits (bounded) until the session recorded `count` events `event` (for "state", with the state
 * `state`) — or closed, unless the wait is for the closed state itself — and returns the
 * snapshot. A timeout is not thrown: the assertions then tell what was seen.
 */
async function waitVideo(page, { event = "state", state = null, count = 1, timeout = STEP_TIMEOUT_MS } = {}) {
  try {
    await page.waitForFunction(
      ([event, state, count]) => {
        const hits = window.__video.filter((e) => e.event === event && (state === null || e.payload?.state === state));
        const closed = state !== "closed" && window.__video.some((e) => e.event === "state" && e.payload?.state === "closed");
        return hits.length >= count || closed;
      },
      [event, state, count],
      { timeout, polling: 20 },
    );
  } catch (error) {
    if (!String(error).includes("Timeout")) throw error;
  }
  return snapshot(page);
}

const stateEvents = (video) => video.events.filter((e) => e.event === "state").map((e) => e.payload);
const states = (video) => stateEvents(video).map((s) => s.state);
const eventsNamed = (video, name) => video.events.filter((e) => e.event === name);

function storyOf(video, extra = []) {
  const line = (e) =>
    e.event === "state" ? `state ${e.payload.state} (${e.payload.reason})` : `${e.event} ${JSON.stringify(e.payload)}`;
  return (
    `\n  events: ${video.events.map(line).join(" | ") || "none"}` +
    `\n  state getter: ${video.state}; refresh requests ${video.refreshes}; WebSockets opened ${video.sockets}; ` +
    `CONNECT tokens: ${video.frames.map((f) => short(f.token)).join(", ") || "none"}; sessionExpired ${JSON.stringify(video.expired)}` +
    extra.filter(Boolean).map((s) => `\n  ${s}`).join("")
  );
}

const options = ({ session_id, room_id }, userId, role = "PATIENT", more = {}) => ({
  sessionId: session_id,
  roomId: room_id,
  userId,
  role,
  ...more,
});

// ---- 1. against consult-stub: join, presence, status; the expired token -----------------------

test("1a. a valid token joins (connecting → connected → joined); a second client's join arrives as participant_joined, PATCH /api/dev/sessions/{id} as session_status, its leaving as participant_left", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const patient = await openPage("patient");
  const doctor = await openPage("doctor");
  try {
    const patientId = uniqueUser("patient-join");
    const doctorId = uniqueUser("doctor-join");
    const session = await stub.createSession({ status: "waiting" });
    const patientGrant = await stub.mintToken({ user_id: patientId, role: "PATIENT", name: "Pat Join" });
    const doctorGrant = await stub.mintToken({ user_id: doctorId, role: "DOCTOR", name: "Doc Join" });
    await storeToken(patient.page, patientGrant);
    await storeToken(doctor.page, doctorGrant);
    await createClient(patient.page, stub.url);
    await createClient(doctor.page, stub.url);
    const before = await counters(stub);

    const initial = await connectVideo(patient.page, options(session, patientId));
    const joined = await waitVideo(patient.page, { state: "joined" });
    const errors = () => [...patient.errors, ...doctor.errors].length && `page errors: ${[...patient.errors, ...doctor.errors].join(" / ")}`;
    let story = storyOf(joined, [errors()]);
    assert.equal(initial, "connecting", `state right after connectVideoSession${story}`);
    assert.deepEqual(states(joined), ["connecting", "connected", "joined"], `state events${story}`);
    assert.equal(joined.state, "joined", `state getter${story}`);
    assert.deepEqual(eventsNamed(joined, "joined_room").map((e) => e.payload), [{
      room_id: session.room_id,
      session_id: session.session_id,
      user_id: patientId,
      role: "PATIENT",
      participants: [{ user_id: patientId, role: "PATIENT", name: "Pat Join" }],
    }], `joined_room payload${story}`);
    assert.deepEqual(joined.frames.map((f) => f.token), [patientGrant.access_token], `the stored token went into the CONNECT${story}`);

    // The second client joins: the first one hears participant_joined.
    await connectVideo(doctor.page, options(session, doctorId, "DOCTOR"));
    const doctorJoined = await waitVideo(doctor.page, { state: "joined" });
    assert.equal(doctorJoined.state, "joined", `the doctor joined${storyOf(doctorJoined, [errors()])}`);
    const doctorView = eventsNamed(doctorJoined, "joined_room")[0]?.payload;
    assert.deepEqual(doctorView?.participants.map((p) => p.user_id).sort(), [patientId, doctorId].sort(), `the doctor sees both${storyOf(doctorJoined)}`);
    const presence = await waitVideo(patient.page, { event: "participant_joined" });
    story = storyOf(presence, [errors()]);
    assert.deepEqual(eventsNamed(presence, "participant_joined").map((e) => e.payload), [
      { room_id: session.room_id, user_id: doctorId, role: "DOCTOR", name: "Doc Join" },
    ], `participant_joined at the patient${story}`);

    // PATCH the session: both get session_status.
    const patched = await stub.patchSession(session.session_id, "active");
    const [patientStatus, doctorStatus] = await Promise.all([
      waitVideo(patient.page, { event: "session_status" }),
      waitVideo(doctor.page, { event: "session_status" }),
    ]);
    for (const [who, video] of [["patient", patientStatus], ["doctor", doctorStatus]]) {
      const status = eventsNamed(video, "session_status").map((e) => e.payload);
      assert.equal(status.length, 1, `one session_status at the ${who}${storyOf(video)}`);
      assert.equal(status[0].session_id, session.session_id, `session_status.session_id at the ${who}${storyOf(video)}`);
      assert.equal(status[0].room_id, session.room_id, `session_status.room_id at the ${who}${storyOf(video)}`);
      assert.equal(status[0].status, "active", `session_status.status at the ${who}${storyOf(video)}`);
      assert.equal(status[0].version, patched.version, `session_status.version at the ${who}${storyOf(video)}`);
    }

    // The doctor leaves (disconnect()): participant_left at the patient; the doctor is closed.
    const doctorClosed = await doctor.page.evaluate(() => {
      window.session.disconnect();
      return window.session.state;
    });
    assert.equal(doctorClosed, "closed", "state right after disconnect()");
    const left = await waitVideo(patient.page, { event: "participant_left" });
    assert.deepEqual(eventsNamed(left, "participant_left").map((e) => e.payload), [
      { room_id: session.room_id, user_id: doctorId, role: "DOCTOR", name: "Doc Join" },
    ], `participant_left at the patient${storyOf(left, [errors()])}`);
    const closed = await patient.page.evaluate(() => {
      window.session.disconnect();
      return window.session.state;
    });
    assert.equal(closed, "closed", "the patient's state after disconnect()");

    const counted = delta(before, await counters(stub));
    assert.deepEqual(counted, { refresh_ok: 0, refresh_rejected: 0, socket_connect: 2, socket_reject: 0, join: 2 }, `stub counters${storyOf(left)}`);
    const joins = (await joinsOf(stub)).filter((j) => j.room_id === session.room_id);
    assert.deepEqual(joins, [
      { user_id: patientId, room_id: session.room_id, jti: jti(patientGrant.access_token) },
      { user_id: doctorId, room_id: session.room_id, jti: jti(doctorGrant.access_token) },
    ], "the stub's join records");
    const final = await snapshot(patient.page);
    assert.equal(states(final).at(-1), "closed", `the patient's last state event${storyOf(final)}`);
    assert.equal(final.sockets, 1, `one WebSocket for the patient, no reconnect${storyOf(final)}`);
    t.diagnostic(`patient:${storyOf(final).replaceAll("\n  ", " | ")} || stub deltas ${JSON.stringify(counted)}`);
  } finally {
    await patient.context.close().catch(() => {});
    await doctor.context.close().catch(() => {});
  }
});

test("1b. an expired token the client believes valid: \"Token expired\" → exactly one refresh → joined, and the stub saw the join with the new token's jti", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-expired");
    const session = await stub.createSession({ status: "waiting" });
    // Expired 30 s ago, but the device clock is 10 min slow: the client sends it.
    const expired = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Expired", ttl_secs: -30 });
    await storeToken(page, expired);
    await createClient(page, stub.url, { lagMs: CLOCK_LAG_MS });
    const before = await counters(stub);

    await connectVideo(page, options(session, userId));
    const video = await waitVideo(page, { state: "joined" });
    const counted = delta(before, await counters(stub));
    const joins = (await joinsOf(stub)).filter((j) => j.user_id === userId);
    const story = storyOf(video, [
      `stub deltas ${JSON.stringify(counted)}; joins ${JSON.stringify(joins)}`,
      `expired token ${short(expired.access_token)} (jti ${jti(expired.access_token)}), current ${short(video.token)}`,
      errors.length && `page errors: ${errors.join(" / ")}`,
    ]);

    assert.equal(video.state, "joined", `joined${story}`);
    const seen = stateEvents(video);
    assert.deepEqual(seen.filter((s) => s.state === "refreshing"), [{ state: "refreshing", reason: "Token expired" }], `one "refreshing" state, for "Token expired"${story}`);
    assert.ok(!seen.some((s) => s.state === "closed"), `never closed${story}`);
    assert.equal(seen.at(-1).state, "joined", `ends joined${story}`);
    assert.equal(eventsNamed(video, "joined_room").length, 1, `one joined_room${story}`);
    assert.equal(eventsNamed(video, "joined_room")[0].payload.user_id, userId, `joined_room.user_id${story}`);

    assert.deepEqual(counted, { refresh_ok: 1, refresh_rejected: 0, socket_connect: 1, socket_reject: 1, join: 1 }, `stub counters: one refusal, one refresh, one connect, one join${story}`);
    assert.equal(video.refreshes, 1, `one refresh request from the page${story}`);
    assert.notEqual(video.token, expired.access_token, `the client holds a new token${story}`);
    assert.deepEqual(video.frames.map((f) => f.token), [expired.access_token, video.token], `CONNECT with the stored token, then with the refreshed one${story}`);
    assert.deepEqual(joins, [{ user_id: userId, room_id: session.room_id, jti: jti(video.token) }], `joined with the refreshed token's jti${story}`);
    assert.equal(video.stored, video.token, `localStorage holds the refreshed token${story}`);
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
    await page.evaluate(() => window.session.disconnect());
  } finally {
    await context.close().catch(() => {});
  }
});

// ---- 2. server restart while joined, the token expired meanwhile ------------------------------

test("2. the server restarts (SIGKILL, same port) while joined and the token expires meanwhile → reconnects, refreshes, joins again with the new token within 10 s", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const sessionId = `restart-${randomUUID().slice(0, 8)}`;
  const server2 = await restartableStub(["--create-session", sessionId]);
  const session = { session_id: sessionId, room_id: `room-${sessionId}` };
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-restart");
    // A 4 s token (the client's refresh margin is then half its lifetime, 2 s): it will have
    // expired by the time the server is back.
    const grant = await server2.current.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Restart", ttl_secs: 4 });
    await createClient(page, server2.url, { grant });
    await connectVideo(page, options(session, userId));
    const first = await waitVideo(page, { state: "joined" });
    const firstJoins = await joinsOf(server2.current);
    assert.equal(first.state, "joined", `joined first${storyOf(first)}`);
    assert.deepEqual(firstJoins.map((j) => j.jti), [jti(grant.access_token)], `the premise: the first join used the 4 s token${storyOf(first)}`);

    await server2.kill();
    const down = await waitVideo(page, { state: "reconnecting" });
    assert.ok(states(down).includes("reconnecting"), `"reconnecting" once the server is gone${storyOf(down)}`);
    // Stay down until the token has expired.
    await sleep(Math.max(0, exp(grant.access_token) * 1000 + 300 - Date.now()));
    const restartedAt = await server2.start();
    const before = ZERO; // a new process (reading its counters now could race the client)

    const video = await waitVideo(page, { state: "joined", count: 2, timeout: REJOIN_WITHIN_MS + 2_000 });
    const rejoinedAt = eventsNamed(video, "state").filter((e) => e.payload.state === "joined")[1]?.at;
    const counted = delta(before, await counters(server2.current));
    const joins = await joinsOf(server2.current);
    const story = storyOf(video, [
      `restarted at +0, joined again at +${rejoinedAt ? rejoinedAt - restartedAt : "never"} ms`,
      `new instance: counters ${JSON.stringify(counted)}, joins ${JSON.stringify(joins)}`,
      `first token ${short(grant.access_token)} (jti ${jti(grant.access_token)}), current ${short(video.token)}`,
      errors.length && `page errors: ${errors.join(" / ")}`,
    ]);

    assert.equal(video.state, "joined", `joined again${story}`);
    assert.equal(eventsNamed(video, "joined_room").length, 2, `a second joined_room${story}`);
    assert.ok(!states(video).includes("closed"), `never closed${story}`);
    assert.ok(rejoinedAt - restartedAt < REJOIN_WITHIN_MS, `joined again within ${REJOIN_WITHIN_MS} ms of the restart${story}`);
    assert.ok(video.token && jti(video.token) !== jti(grant.access_token), `the token was refreshed${story}`);
    assert.equal(counted.refresh_ok, 1, `one refresh at the restarted server${story}`);
    assert.equal(counted.refresh_rejected, 0, `no refused refresh${story}`);
    assert.equal(counted.socket_connect, 1, `one accepted handshake${story}`);
    assert.deepEqual(joins, [{ user_id: userId, room_id: session.room_id, jti: jti(video.token) }], `one join since the restart, with the new token's jti${story}`);
    assert.equal(video.frames.at(-1)?.token, video.token, `the last CONNECT carried the new token${story}`);
    assert.equal(video.stored, video.token, `localStorage holds the new token${story}`);
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
    await page.evaluate(() => window.session.disconnect());
  } finally {
    await context.close().catch(() => {});
    await server2.stop();
  }
});

// ---- 3. the refresh answers 401 during the reconnect -----------------------------------------

test("3. reconnecting after a restart, the token is refused (\"Token expired\") and the refresh answers 401 → exactly one refresh, closed \"session expired\", sessionExpired once, storage cleared, no loop", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const sessionId = `refused-${randomUUID().slice(0, 8)}`;
  // --refresh-grace 0s: an expired token can no longer be refreshed (401 refresh_window_expired).
  const server3 = await restartableStub(["--create-session", sessionId, "--refresh-grace", "0s"]);
  const session = { session_id: sessionId, room_id: `room-${sessionId}` };
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-refused");
    const grant = await server3.current.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Refused", ttl_secs: 4 });
    // The device clock is 10 min slow: the client believes its token valid throughout, so the
    // server is the one to refuse it.
    await storeToken(page, grant);
    await createClient(page, server3.url, { lagMs: CLOCK_LAG_MS });
    await connectVideo(page, options(session, userId, "PATIENT", { reconnection: { attempts: 50, delayMs: 200, maxDelayMs: 400 } }));
    const first = await waitVideo(page, { state: "joined" });
    assert.equal(first.state, "joined", `joined first${storyOf(first)}`);

    await server3.kill();
    const down = await waitVideo(page, { state: "reconnecting" });
    assert.ok(states(down).includes("reconnecting"), `"reconnecting" once the server is gone${storyOf(down)}`);
    const refreshesBefore = down.refreshes;
    const socketsBefore = down.sockets;
    // Stay down until the token is past exp + the 0 s grace (whole seconds on the server).
    await sleep(Math.max(0, (exp(grant.access_token) + 1) * 1000 + 300 - Date.now()));
    await server3.start();
    const before = ZERO; // a new process (reading its counters now could race the client)

    const video = await waitVideo(page, { state: "closed" });
    const counted = delta(before, await counters(server3.current));
    await sleep(NO_LOOP_WATCH_MS); // a loop would show up here
    const later = await snapshot(page);
    const countedLater = delta(before, await counters(server3.current));
    const story = storyOf(later, [
      `restarted instance: counters at the close ${JSON.stringify(counted)}, ${NO_LOOP_WATCH_MS} ms later ${JSON.stringify(countedLater)}`,
      `refresh requests before the restart ${refreshesBefore}; WebSockets before the restart ${socketsBefore}`,
      errors.length && `page errors: ${errors.join(" / ")}`,
    ]);

    const seen = stateEvents(video);
    assert.deepEqual(seen.at(-1), { state: "closed", reason: "session expired" }, `closed "session expired"${story}`);
    assert.equal(seen.filter((s) => s.state === "closed").length, 1, `closed once${story}`);
    const afterRestart = seen.slice(seen.findIndex((s) => s.state === "reconnecting"));
    assert.deepEqual(afterRestart.filter((s) => s.state === "refreshing"), [{ state: "refreshing", reason: "Token expired" }], `one "refreshing", for "Token expired"${story}`);
    assert.equal(refreshesBefore, 0, `no refresh before the restart${story}`);
    assert.equal(later.refreshes, 1, `exactly one refresh request from the page${story}`);
    assert.deepEqual(counted, { refresh_ok: 0, refresh_rejected: 1, socket_connect: 0, socket_reject: 1, join: 0 }, `restarted stub: one refused CONNECT, one refused refresh${story}`);
    assert.deepEqual(countedLater, counted, `nothing more reached the stub afterwards${story}`);
    assert.equal(later.sockets, video.sockets, `no WebSocket opened after the close${story}`);
    assert.equal(later.state, "closed", `still closed${story}`);
    assert.equal(eventsNamed(later, "state").length, eventsNamed(video, "state").length, `no state event after the close${story}`);
    assert.deepEqual(later.expired, ["REFRESH_REJECTED"], `sessionExpired fired once${story}`);
    assert.equal(later.stored, null, `storage cleared${story}`);
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
  } finally {
    await context.close().catch(() => {});
    await server3.stop();
  }
});

// ---- 4. an unknown namespace --------------------------------------------------------------------

test("4. an unknown namespace (\"Invalid namespace\") closes at once without a refresh or a reconnect", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-nsp");
    const session = await stub.createSession({ status: "waiting" });
    const grant = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Nsp" });
    await storeToken(page, grant);
    await createClient(page, stub.url);
    const before = await counters(stub);

    await connectVideo(page, options(session, userId, "PATIENT", { namespace: "/nope", reconnection: { delayMs: 100, maxDelayMs: 200 } }));
    const video = await waitVideo(page, { state: "closed" });
    await sleep(600); // several reconnect delays
    const later = await snapshot(page);
    const counted = delta(before, await counters(stub));
    const story = storyOf(later, [`stub deltas ${JSON.stringify(counted)}`, errors.length && `page errors: ${errors.join(" / ")}`]);

    assert.deepEqual(stateEvents(video).at(-1), { state: "closed", reason: "Invalid namespace" }, `closed by the refusal${story}`);
    assert.ok(!states(later).includes("refreshing"), `no "refreshing" state${story}`);
    assert.ok(!states(later).includes("reconnecting"), `no "reconnecting" state${story}`);
    assert.equal(later.state, "closed", `state getter${story}`);
    assert.equal(later.refreshes, 0, `no refresh request from the page${story}`);
    assert.equal(later.sockets, 1, `one WebSocket, no reconnect${story}`);
    assert.equal(eventsNamed(later, "joined_room").length, 0, `no joined_room${story}`);
    assert.deepEqual(counted, { refresh_ok: 0, refresh_rejected: 0, socket_connect: 0, socket_reject: 0, join: 0 }, `nothing at the stub: the root namespace's auth never ran${story}`);
    assert.deepEqual(later.expired, [], `no sessionExpired${story}`);
    assert.equal(later.stored, grant.access_token, `the token stays stored${story}`);
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
  } finally {
    await context.close().catch(() => {});
  }
});

// ---- 6. ping timeout ------------------------------------------------------------------------------

test(`6. a frozen server (SIGSTOP; pingInterval ${PING_MS} ms, pingTimeout ${PING_MS} ms) is noticed within ${2 * PING_MS + PING_SLACK_MS} ms ("reconnecting"); after SIGCONT the client joins again`, { timeout: TEST_TIMEOUT_MS }, async (t) => {
  if (prerequisite) throw prerequisite;
  const sessionId = `ping-${randomUUID().slice(0, 8)}`;
  const server6 = await restartableStub(["--create-session", sessionId, ...PING_ARGS]);
  const session = { session_id: sessionId, room_id: `room-${sessionId}` };
  const { context, page, errors } = await openPage();
  try {
    const userId = uniqueUser("patient-ping");
    const grant = await server6.current.mintToken({ user_id: userId, role: "PATIENT", name: "Pat Ping" });
    await storeToken(page, grant);
    await createClient(page, server6.url);
    await connectVideo(page, options(session, userId));
    const first = await waitVideo(page, { state: "joined" });
    assert.equal(first.state, "joined", `joined first${storyOf(first)}`);
    // Let a ping or two go by: the connection is healthy while the server runs.
    await sleep(PING_MS * 1.5);
    const healthy = await snapshot(page);
    assert.deepEqual(states(healthy), ["connecting", "connected", "joined"], `still joined while the server answers${storyOf(healthy)}`);

    const pausedAt = server6.pause();
    const detected = await waitVideo(page, { state: "reconnecting", timeout: 2 * PING_MS + PING_SLACK_MS + 3_000 });
    server6.resume();
    const resumedAt = Date.now();
    const reconnecting = eventsNamed(detected, "state").find((e) => e.payload.state === "reconnecting");
    const video = await waitVideo(page, { state: "joined", count: 2 });
    const joins = (await joinsOf(server6.current)).filter((j) => j.user_id === userId);
    const story = storyOf(video, [
      `paused at +0, "reconnecting" at +${reconnecting ? reconnecting.at - pausedAt : "never"} ms, resumed at +${resumedAt - pausedAt} ms`,
      `joins ${JSON.stringify(joins)}`,
      errors.length && `page errors: ${errors.join(" / ")}`,
    ]);

    assert.ok(reconnecting, `"reconnecting" while the server is frozen${story}`);
    assert.match(reconnecting.payload.reason, /ping/i, `for a ping timeout${story}`);
    assert.ok(reconnecting.at - pausedAt <= 2 * PING_MS + PING_SLACK_MS, `noticed within ${2 * PING_MS + PING_SLACK_MS} ms${story}`);
    const before = states(video).slice(0, states(video).indexOf("reconnecting"));
    assert.deepEqual(before, ["connecting", "connected", "joined"], `nothing else before${story}`);
    assert.equal(video.state, "joined", `joined again after SIGCONT${story}`);
    assert.equal(eventsNamed(video, "joined_room").length, 2, `a second joined_room${story}`);
    assert.ok(!states(video).includes("closed"), `never closed${story}`);
    assert.equal(video.refreshes, 0, `no refresh (the token is valid)${story}`);
    assert.deepEqual(joins.map((j) => j.jti), [jti(grant.access_token), jti(grant.access_token)], `the stub saw two joins${story}`);
    t.diagnostic(story.trim().replaceAll("\n  ", " | "));
    await page.evaluate(() => window.session.disconnect());
  } finally {
    await context.close().catch(() => {});
    await server6.stop();
  }
});
