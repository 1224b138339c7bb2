// Interop: the official socket.io-client 4.8.4 against the real consult-stub
// (the README's "What it answers": handshake refusals, join_room, presence, status pushes).

import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { io } from "socket.io-client";

import { startStub } from "./stub.js";

const EVENT_TIMEOUT_MS = 5_000;
const TEST_TIMEOUT = { timeout: 20_000 };

let stub;
/** Sockets opened by the running test; afterEach disconnects them all (so no subtests here:
 *  node runs afterEach after each subtest too). */
let openSockets = [];

before(async () => {
  stub = await startStub();
});

after(async () => {
  await stub?.stop();
});

afterEach(() => {
  for (const socket of openSockets) socket.disconnect();
  openSockets = [];
});

// ---- helpers ------------------------------------------------------------------------------

/** A user id no other test uses. */
const uniqueUser = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;

/**
 * Resolves with the first argument of the next `event`; rejects after `ms`, or as soon as
 * `failEvent` (when given) comes first, with its payload in the message.
 */
function onceUnless(socket, event, failEvent, ms = EVENT_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      socket.off(event, onEvent);
      if (failEvent) socket.off(failEvent, onFail);
    };
    const timer = setTimeout(() => {
      cleanup();
      const awaited = failEvent ? `neither "${event}" nor "${failEvent}"` : `no "${event}"`;
      reject(new Error(`${awaited} within ${ms} ms`));
    }, ms);
    function onEvent(value) {
      cleanup();
      resolve(value);
    }
    function onFail(value) {
      cleanup();
      const detail = value instanceof Error ? value.message : JSON.stringify(value);
      reject(new Error(`expected "${event}", got "${failEvent}"${detail ? `: ${detail}` : ""}`));
    }
    socket.on(event, onEvent);
    if (failEvent) socket.on(failEvent, onFail);
  });
}

/** Resolves with the first argument of the next `event`, rejects after `ms`. */
const once = (emitter, event, ms = EVENT_TIMEOUT_MS) => onceUnless(emitter, event, undefined, ms);

/**
 * Opens a socket (tracked for cleanup): WebSocket only, unless `defaultTransports` (polling,
 * then upgrade). `token === undefined` sends no auth at all.
 */
function openSocket({ token, path = "", defaultTransports = false } = {}) {
  const options = { reconnection: false, forceNew: true };
  if (!defaultTransports) options.transports = ["websocket"];
  if (token !== undefined) options.auth = { token };
  const socket = io(stub.url + path, options);
  openSockets.push(socket);
  return socket;
}

/** Waits for `connect`; a `connect_error` fails with its message. */
const connected = (socket) => onceUnless(socket, "connect", "connect_error");

/** Waits for `connect_error` and returns its message; a `connect` fails. */
async function refusal(socket) {
  const err = await onceUnless(socket, "connect_error", "connect");
  return err.message;
}

/** Mints a token; returns {token, user}. */
async function signIn(userId, extra = {}) {
  const answer = await stub.mintToken({ user_id: userId, ...extra });
  return { token: answer.access_token, user: answer.user };
}

/** Emits `join_room` and resolves with `joined_room`; a server `error` event fails. */
function join(socket, payload) {
  const reply = onceUnless(socket, "joined_room", "error");
  socket.emit("join_room", payload);
  return reply;
}

/** Emits `join_room` and resolves with the server's `error` event; `joined_room` fails. */
function joinRefused(socket, payload) {
  const reply = onceUnless(socket, "error", "joined_room");
  socket.emit("join_room", payload);
  return reply;
}

/** A signed-in, connected user: {userId, token, socket}. */
async function connectedUser(prefix, extra = {}) {
  const userId = uniqueUser(prefix);
  const { token } = await signIn(userId, extra);
  const socket = openSocket({ token });
  await connected(socket);
  return { userId, token, socket };
}

/** `join_room` payload for `member` in `room_id`. */
const joinPayload = (member, room_id, role = "PATIENT") => ({
  room_id,
  user_id: member.userId,
  role,
  token: member.token,
});

const userIds = (participants) => participants.map((p) => p.user_id).sort();

/** An `error` event is `{code, message}` with the given code and some message. */
function assertErrorEvent(event, code, label) {
  assert.equal(event.code, code, label);
  assert.equal(typeof event.message, "string", label);
  assert.ok(event.message.length > 0, `${label}: error event has a message`);
}

// ---- tests --------------------------------------------------------------------------------

test("a valid token connects and join_room answers joined_room with the user present", TEST_TIMEOUT, async () => {
  const session = await stub.createSession({ status: "waiting" });
  const alice = await connectedUser("alice", { role: "PATIENT", name: "Alice A" });

  const joined = await join(alice.socket, joinPayload(alice, session.room_id));

  assert.equal(joined.room_id, session.room_id);
  assert.equal(joined.session_id, session.session_id);
  assert.equal(joined.user_id, alice.userId);
  assert.equal(joined.role, "PATIENT");
  assert.deepEqual(joined.participants, [{ user_id: alice.userId, role: "PATIENT", name: "Alice A" }]);
});

test("default transports: polling upgrades to websocket and the socket still joins", TEST_TIMEOUT, async () => {
  const session = await stub.createSession();
  const userId = uniqueUser("poller");
  const { token } = await signIn(userId);
  const socket = openSocket({ token, defaultTransports: true });
  const engine = socket.io.engine;
  assert.equal(engine.transport.name, "polling", "the default starts with HTTP long-polling");
  const upgraded = once(engine, "upgrade");

  await connected(socket);
  assert.equal((await upgraded).name, "websocket");
  assert.equal(socket.io.engine.transport.name, "websocket");

  const joined = await join(socket, { room_id: session.room_id, user_id: userId, role: "PATIENT", token });
  assert.equal(joined.session_id, session.session_id);
  assert.deepEqual(userIds(joined.participants), [userId]);
});

test("handshake refusals carry the contract's connect_error messages", TEST_TIMEOUT, async () => {
  const before = await stub.stats();
  const cases = [
    { name: "missing token", token: async () => undefined, message: "unauthorized: missing token" },
    {
      name: "expired token",
      token: async () => (await signIn(uniqueUser("late"), { ttl_secs: -60 })).token,
      message: "Token expired",
    },
    { name: "garbage token", token: async () => "not-a-jwt", message: "Invalid token" },
    {
      name: "logged-out token",
      token: async () => {
        const { token } = await signIn(uniqueUser("gone"));
        await stub.logout(token);
        return token;
      },
      message: "Session revoked",
    },
  ];

  for (const c of cases) {
    const socket = openSocket({ token: await c.token() });
    const message = await refusal(socket).catch((err) => {
      throw new Error(`${c.name}: ${err.message}`);
    });
    assert.equal(message, c.message, c.name);
    assert.equal(socket.connected, false, c.name);
  }

  const after = await stub.stats();
  assert.equal(after.socket_reject - before.socket_reject, cases.length, "one socket_reject per refusal");
  assert.equal(after.socket_connect, before.socket_connect, "no refused socket was counted as connected");
});

test("after a refresh the same socket reconnects and joins", TEST_TIMEOUT, async () => {
  const session = await stub.createSession();
  const userId = uniqueUser("sleeper");
  const { token: expired } = await signIn(userId, { ttl_secs: -60 });
  const socket = openSocket({ token: expired });
  assert.equal(await refusal(socket), "Token expired");

  const refreshed = await stub.refresh(expired);
  assert.equal(refreshed.token_type, "bearer");
  assert.equal(refreshed.user.user_id, userId);
  assert.ok(refreshed.expires_in > 0, "the successor is valid");
  assert.notEqual(refreshed.access_token, expired);

  socket.auth = { token: refreshed.access_token };
  socket.connect();
  await connected(socket);

  const joined = await join(socket, {
    room_id: session.room_id,
    user_id: userId,
    role: "PATIENT",
    token: refreshed.access_token,
  });
  assert.equal(joined.session_id, session.session_id);
  assert.deepEqual(userIds(joined.participants), [userId]);
});

test("PATCH of a session's status reaches a joined socket as session_status", TEST_TIMEOUT, async () => {
  const session = await stub.createSession({ status: "waiting" });
  const doctor = await connectedUser("doctor", { role: "DOCTOR" });
  await join(doctor.socket, joinPayload(doctor, session.room_id, "DOCTOR"));

  const pushed = once(doctor.socket, "session_status");
  const patched = await stub.patchSession(session.session_id, "active");
  assert.equal(patched.status, "active");

  const event = await pushed;
  assert.equal(event.status, "active");
  assert.equal(event.session_id, session.session_id);
  assert.equal(event.room_id, session.room_id);
  assert.equal(event.version, patched.version);
});

test("presence: participant_joined for a newcomer, participant_left when it disconnects", TEST_TIMEOUT, async () => {
  const patient = await connectedUser("patient", { role: "PATIENT" });
  const doctor = await connectedUser("doctor", { role: "DOCTOR" });
  const session = await stub.createSession({ participants: [patient.userId, doctor.userId] });

  await join(patient.socket, joinPayload(patient, session.room_id));
  const arrival = once(patient.socket, "participant_joined");
  const doctorJoined = await join(doctor.socket, joinPayload(doctor, session.room_id, "DOCTOR"));
  assert.deepEqual(userIds(doctorJoined.participants), [patient.userId, doctor.userId].sort());

  const joinedEvent = await arrival;
  assert.equal(joinedEvent.user_id, doctor.userId);
  assert.equal(joinedEvent.room_id, session.room_id);
  assert.equal(joinedEvent.role, "DOCTOR");

  const departure = once(patient.socket, "participant_left");
  doctor.socket.disconnect();
  const leftEvent = await departure;
  assert.equal(leftEvent.user_id, doctor.userId);
  assert.equal(leftEvent.room_id, session.room_id);
});

test("join_room refusals arrive as error events with the contract's codes", TEST_TIMEOUT, async () => {
  const session = await stub.createSession();
  const closed = await stub.createSession({ participants: [uniqueUser("someone-else")] });
  const carol = await connectedUser("carol");
  const { token: expired } = await signIn(carol.userId, { ttl_secs: -60 });
  const cases = [
    {
      name: "unknown room",
      payload: joinPayload(carol, `no-such-room-${randomUUID()}`),
      code: "session_not_found",
    },
    {
      name: "user_id other than the token's sub",
      payload: { ...joinPayload(carol, session.room_id), user_id: uniqueUser("mallory") },
      code: "not_a_participant",
    },
    {
      // Indistinguishable from a room no session has: outsiders cannot probe private sessions.
      name: "user not on the session's participant list",
      payload: joinPayload(carol, closed.room_id),
      code: "session_not_found",
    },
    {
      name: "expired token in the payload",
      payload: { ...joinPayload(carol, session.room_id), token: expired },
      code: "token_expired",
    },
  ];

  for (const c of cases) {
    assertErrorEvent(await joinRefused(carol.socket, c.payload), c.code, c.name);
  }

  // The refusals did not end the connection: a correct join still works.
  assert.equal(carol.socket.connected, true);
  const joined = await join(carol.socket, joinPayload(carol, session.room_id));
  assert.equal(joined.session_id, session.session_id);
});

test("an unknown namespace is refused with Invalid namespace", TEST_TIMEOUT, async () => {
  const { token } = await signIn(uniqueUser("lost"));
  const socket = openSocket({ token, path: "/nope" });
  assert.equal(await refusal(socket), "Invalid namespace");
});

// Regression: socketioxide sends the CONNECT answer (`40{"sid"}`) before it spawns the connect
// handler, so handlers registered there could miss an event sent right on `connect` (~1 % of
// joins were dropped). The server now registers its handlers in the auth middleware.
test("join_room sent right on connect is always answered (race stress)", {
  ...TEST_TIMEOUT,
}, async () => {
  const ROUNDS = 150;
  const session = await stub.createSession();
  const userId = uniqueUser("eager");
  const { token } = await signIn(userId);
  for (let round = 0; round < ROUNDS; round++) {
    const socket = openSocket({ token });
    await connected(socket);
    const reply = onceUnless(socket, "joined_room", "error", 1_000);
    socket.emit("join_room", { room_id: session.room_id, user_id: userId, role: "PATIENT", token });
    await reply.catch((err) => {
      throw new Error(`round ${round + 1}/${ROUNDS}: ${err.message}`);
    });
    socket.disconnect();
  }
});
