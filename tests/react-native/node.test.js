// consult-client's React Native entry (target/pkg/react-native, built by
// scripts/build-package.sh: the JavaScript driver over consult-core compiled by wasm2js) in
// Node 20, with what React Native lacks taken away before the entry is imported — WebAssembly,
// localStorage, BroadcastChannel, navigator.locks, and TextDecoder/TextEncoder while the entry
// evaluates (so the glue binds the UTF-8 fallback, as on Hermes) — and what React Native adds put
// in place: `window` is the global object, a global WebSocket (the `ws` package's), AsyncStorage
// (an in-memory stand-in whose every call settles on a later turn, as over the native bridge)
// and AppState (a stand-in). Against a real consult-stub on 127.0.0.1 (a port it picks).
//
// Node's own fetch (undici) parses HTTP with a WebAssembly build of llhttp, compiled on its first
// request: one request is made before WebAssembly is deleted. That is Node's plumbing; React
// Native's fetch is native.
//
// Run: scripts/build-package.sh, then `node --test --test-concurrency=1 react-native/` from
// tests/ (scripts/test-package.sh does both).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { WebSocket as NodeWebSocket } from "ws";

import { startStub } from "../interop/stub.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(HERE, "..", "..", "target", "pkg", "react-native");
const TEST_TIMEOUT_MS = 60_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, check, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** The `jti` claim of a JWT. */
const jti = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8")).jti;

// ---- the stub first (its first request warms Node's fetch), then React Native's environment ----

let stub;
let entry;
let core;
let utf8;
/** Every WebSocket the entry opened (React Native's global WebSocket, here `ws`'s). */
const sockets = [];
/** Requests the driver sent through the global fetch: [url, authorization]. */
const requests = [];

async function setUp() {
  if (!existsSync(resolve(PKG, "index.js"))) {
    throw new Error(`${PKG}/index.js missing: run scripts/build-package.sh first`);
  }
  stub = await startStub();
  await stub.stats(); // Node's fetch compiles its HTTP parser (WebAssembly) now, while it exists.

  delete globalThis.WebAssembly;
  delete globalThis.localStorage;
  delete globalThis.sessionStorage;
  delete globalThis.indexedDB;
  delete globalThis.BroadcastChannel;
  // React Native's navigator: { product: "ReactNative" }, no locks.
  Object.defineProperty(globalThis, "navigator", { value: { product: "ReactNative" }, configurable: true, writable: true });
  // React Native's InitializeCore makes `window` the global object (without addEventListener).
  globalThis.window = globalThis;
  globalThis.WebSocket = class RecordedWebSocket extends NodeWebSocket {
    constructor(...args) {
      super(...args);
      sockets.push(this);
    }
  };
  const nodeFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const request = new Request(input, init);
    requests.push([request.url, request.headers.get("authorization")]);
    return nodeFetch(request);
  };

  // Hermes has no TextDecoder: the glue binds its codec when it evaluates, so take them away
  // for the import only (Node's own fetch uses them afterwards).
  const codecs = [globalThis.TextDecoder, globalThis.TextEncoder];
  delete globalThis.TextDecoder;
  delete globalThis.TextEncoder;
  try {
    entry = await import(pathToFileURL(resolve(PKG, "index.js")).href);
    core = await import(pathToFileURL(resolve(PKG, "consult_core_wasm2js.js")).href);
    utf8 = await import(pathToFileURL(resolve(PKG, "utf8.js")).href);
  } finally {
    [globalThis.TextDecoder, globalThis.TextEncoder] = codecs;
  }
}

const ready = setUp().then(
  () => null,
  (error) => error,
);
before(async () => {
  const failure = await ready;
  if (failure) throw failure;
});
after(async () => {
  await stub?.stop();
});

/** AsyncStorage's API over a Map; every call settles on a later turn of the event loop. */
function fakeAsyncStorage(entries = {}) {
  const map = new Map(Object.entries(entries));
  const later = (value) => new Promise((r) => setTimeout(() => r(value), 1));
  return {
    map,
    getItem: (key) => later(map.has(key) ? map.get(key) : null),
    setItem: (key, value) => later(void map.set(key, String(value))),
    removeItem: (key) => later(void map.delete(key)),
  };
}

/** React Native's AppState: `addEventListener("change", fn)` → `{ remove() }`. */
function fakeAppState() {
  const listeners = new Set();
  return {
    currentState: "active",
    listeners,
    addEventListener(type, listener) {
      assert.equal(type, "change");
      listeners.add(listener);
      return { remove: () => listeners.delete(listener) };
    },
    change(state) {
      this.currentState = state;
      for (const listener of [...listeners]) listener(state);
    },
  };
}

const refreshOk = async () => (await stub.stats()).refresh_ok;

/** A client on the stub with the AsyncStorage adapter; `events` records its events in order. */
function newClient(storage, options = {}) {
  const client = new entry.ConsultClient({ baseUrl: stub.url, storage: entry.asyncStorageAdapter(storage), ...options });
  const events = [];
  for (const name of ["tokenRefreshed", "tokenChanged", "refreshFailed", "sessionExpired", "warning"]) {
    client.on(name, (payload) => events.push([name, payload?.code ?? payload?.token ?? null]));
  }
  return { client, events };
}

// ---------------------------------------------------------------------------------------------

test("React Native's environment: no WebAssembly, localStorage, BroadcastChannel or navigator.locks; the entry exports the package's API and the helpers; the glue got the UTF-8 fallback", () => {
  assert.equal(typeof WebAssembly, "undefined");
  assert.equal(typeof globalThis.localStorage, "undefined");
  assert.equal(typeof globalThis.BroadcastChannel, "undefined");
  assert.equal(globalThis.navigator.locks, undefined);
  assert.equal(globalThis.window, globalThis);
  for (const name of ["ConsultClient", "ConsultError", "SessionPoller", "configure", "getValidToken", "refreshAuthToken", "getSessionDetails", "joinUrl", "asyncStorageAdapter", "wakeOnAppState"]) {
    assert.equal(typeof entry[name], "function", `${name} is exported`);
  }
  // utf8.js evaluated without the platform codecs: what it handed the glue is the fallback.
  assert.equal(utf8.TextDecoder, utf8.Utf8Decoder);
  assert.equal(utf8.TextEncoder, utf8.Utf8Encoder);
});

test("the UTF-8 fallback agrees with TextEncoder / TextDecoder (astral, lone surrogates, malformed bytes)", () => {
  const encoder = new utf8.Utf8Encoder();
  const decoder = new utf8.Utf8Decoder();
  const texts = ["", "abc", "é", "€uro", "😀 emoji", "mixed ä€😀a\u0000", "\ud800 lone", "end \udc00", "\udbff\udfff", "a".repeat(10_000) + "é".repeat(5_000)];
  for (const text of texts) {
    const want = new TextEncoder().encode(text);
    assert.deepEqual(encoder.encode(text), want, `encode ${JSON.stringify(text.slice(0, 20))}`);
    assert.equal(decoder.decode(want), new TextDecoder().decode(want), `decode ${JSON.stringify(text.slice(0, 20))}`);
    // encodeInto into a view too small: whole characters only, as TextEncoder.
    const view = new Uint8Array(Math.floor(want.length / 2));
    assert.deepEqual(encoder.encodeInto(text, view), new TextEncoder().encodeInto(text, new Uint8Array(view.length)));
  }
  const malformed = [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0x61, 0xf0, 0x9f, 0x98, 0x80, 0x80]];
  for (const bytes of malformed) {
    const array = new Uint8Array(bytes);
    assert.equal(decoder.decode(array), new TextDecoder().decode(array), `decode ${bytes}`);
  }
});

/**
 * A string in and a string out through the wasm2js core: the socket machine derives the
 * WebSocket URL from the server's URL in its constructor and hands it out with its Open op (1).
 */
async function coreWebsocketUrl() {
  const { SocketMachine } = await import(pathToFileURL(resolve(PKG, "consult_core.js")).href);
  return (base) => {
    const machine = new SocketMachine(base, "/", NaN, NaN, NaN, "r", "s", "u", "PATIENT");
    machine.start(0);
    let url;
    for (let op; (op = machine.next()) !== 0; ) if (op === 1) url = machine.text();
    machine.free();
    return url;
  };
}

test("memory growth: calls of several MB grow wasm2js's memory (a new ArrayBuffer) and every later call still reads and writes the right bytes", async () => {
  const websocketUrl = await coreWebsocketUrl();
  const url = (host) => `ws://${host}/socket.io/?EIO=4&transport=websocket`;
  const startBytes = core.memory.buffer.byteLength;
  assert.equal(websocketUrl("http://127.0.0.1:8086"), url("127.0.0.1:8086"), "before growth");
  // Through the boundary both ways: a 3 MB non-ASCII string in, the same characters back. With
  // wasm-bindgen's unpatched views this came back empty (written into the old buffer).
  const big = "ä€😀a".repeat(300_000) + ".test";
  const answer = websocketUrl("http://" + big);
  const grown = core.memory.buffer.byteLength;
  assert.ok(grown > startBytes + 3_000_000, `memory grew (${startBytes} → ${grown} B)`);
  assert.equal(answer, url(big), "a 3 MB string across the boundary, across the growth");
  // Views cached before the growth are not used any more: small calls are still right.
  for (let i = 0; i < 100; i++) assert.equal(websocketUrl(`http://h${i}.test:${1000 + i}`), url(`h${i}.test:${1000 + i}`));
  // Once more, growing again.
  const bigger = "x".repeat(8_000_000);
  assert.equal(websocketUrl("https://" + bigger), `wss://${bigger}/socket.io/?EIO=4&transport=websocket`);
  assert.ok(core.memory.buffer.byteLength > grown, "memory grew again");
});

test("memory growth through the client: after the memory grew, tokens of 15 KB (the core's maximum is 16 KiB) with non-ASCII claims go in and come back byte-exact, 200 times", async () => {
  const websocketUrl = await coreWebsocketUrl();
  const grownFrom = core.memory.buffer.byteLength;
  websocketUrl("http://" + "y".repeat(2 * grownFrom)); // grows the memory, whatever ran before
  assert.ok(core.memory.buffer.byteLength > grownFrom, "memory grew");
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const storage = fakeAsyncStorage();
  const { client } = newClient(storage, { autoRefresh: false });
  try {
    for (let i = 0; i < 200; i++) {
      const exp = Math.floor(Date.now() / 1000) + 3600;
      const claims = { sub: `big-${i}`, exp, iat: exp - 3600, pad: "é😀€".repeat(1_000) + i };
      const token = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2ln`;
      await client.setSession({ access_token: token, expires_in: 3600 });
      assert.equal(client.tokenInfo()?.token, token, `tokenInfo().token, round ${i}`);
      assert.equal(await client.getValidToken(), token);
    }
    await until("the last token stored", () => storage.map.get("authToken") === client.tokenInfo()?.token);
  } finally {
    client.dispose();
  }
});

test("sign in with an expired token: setSession, then getValidToken() refreshes it once; tokenRefreshed and tokenChanged fire; AsyncStorage holds the new token under the seed's keys", { timeout: TEST_TIMEOUT_MS }, async () => {
  const expired = await stub.mintToken({ user_id: "rn-expired", ttl_secs: -60 });
  const storage = fakeAsyncStorage();
  const { client, events } = newClient(storage);
  try {
    const before = await refreshOk();
    await client.setSession(expired);
    const token = await client.getValidToken();
    assert.equal((await refreshOk()) - before, 1, "exactly one refresh");
    assert.notEqual(token, expired.access_token);
    assert.equal(client.tokenInfo()?.refreshCount, 1);
    // Callers are answered once the token is known; AsyncStorage's two writes follow.
    await until("AsyncStorage written", () => storage.map.get("authToken") === token && Date.parse(storage.map.get("tokenExpiresAt")) > Date.now() + 3 * 3600_000);
    const names = events.map(([name]) => name);
    assert.ok(names.includes("tokenRefreshed"), `tokenRefreshed (${names})`);
    assert.deepEqual(events.filter(([name]) => name === "tokenChanged").map(([, t]) => t), [expired.access_token, token], "tokenChanged: the expired token, then the new one");
    assert.equal(names.filter((n) => n === "sessionExpired").length, 0);
  } finally {
    client.dispose();
  }
});

test("an expired token stored by the app (AsyncStorage, seed keys): 50 concurrent getValidToken() → exactly one refresh, everybody gets the new token", { timeout: TEST_TIMEOUT_MS }, async () => {
  const expired = await stub.mintToken({ user_id: "rn-concurrent", ttl_secs: -60 });
  const storage = fakeAsyncStorage({ authToken: expired.access_token, tokenExpiresAt: expired.expires_at });
  const { client } = newClient(storage);
  try {
    const before = await refreshOk();
    const refreshRequests = requests.length;
    const tokens = await Promise.all(Array.from({ length: 50 }, () => client.getValidToken()));
    assert.equal((await refreshOk()) - before, 1, "exactly one refresh at the stub");
    assert.equal(requests.slice(refreshRequests).filter(([url]) => url.endsWith("/refresh-token")).length, 1, "one refresh request sent");
    assert.equal(new Set(tokens).size, 1, "all 50 callers got the same token");
    assert.notEqual(tokens[0], expired.access_token);
    await until("AsyncStorage written", () => storage.map.get("authToken") === tokens[0]);
  } finally {
    client.dispose();
  }
});

test("client.fetch answered 401 → one refresh → one replay with the new token, 200", { timeout: TEST_TIMEOUT_MS }, async () => {
  // Expired 30 s ago, but the device clock is 10 min slow: the client believes it and sends it.
  const expired = await stub.mintToken({ user_id: "rn-replay", ttl_secs: -30 });
  const storage = fakeAsyncStorage({ authToken: expired.access_token, tokenExpiresAt: expired.expires_at });
  const { client } = newClient(storage, { autoRefresh: false, now: () => Date.now() - 600_000 });
  try {
    const before = await refreshOk();
    const from = requests.length;
    const response = await client.fetch("/api/dev/whoami");
    const body = await response.json();
    const token = client.tokenInfo()?.token;
    assert.equal(response.status, 200, "the replay succeeded");
    assert.equal((await refreshOk()) - before, 1, "exactly one refresh");
    assert.notEqual(token, expired.access_token, "a new token");
    assert.equal(body.jti, jti(token), "the replay carried the new token");
    const whoami = requests.slice(from).filter(([url]) => url.endsWith("/api/dev/whoami"));
    assert.deepEqual(whoami.map(([, auth]) => auth), [`Bearer ${expired.access_token}`, `Bearer ${token}`], "the request, then one replay");
  } finally {
    client.dispose();
  }
});

test("pollSession: updates until the stub's PATCH says ended, then onEnd(\"ended\") and no more polls", { timeout: TEST_TIMEOUT_MS }, async () => {
  const grant = await stub.mintToken({ user_id: "rn-poll" });
  const { client } = newClient(fakeAsyncStorage());
  try {
    await client.setSession(grant);
    const { session_id } = await stub.createSession({ status: "waiting" });
    const updates = [];
    const errors = [];
    let end = null;
    const poller = client.pollSession(session_id, {
      intervalMs: 100,
      onUpdate: (session) => updates.push(session.status),
      onError: (error) => errors.push(error.code),
      onEnd: (reason) => (end = reason),
    });
    await until("the first update", () => updates.length >= 1);
    await stub.patchSession(session_id, "active");
    await until("the active update", () => updates.at(-1) === "active");
    await stub.patchSession(session_id, "ended");
    await until("onEnd", () => end !== null);
    assert.equal(end, "ended");
    assert.equal(poller.stopped, true);
    assert.deepEqual(updates, ["waiting", "active", "ended"]);
    assert.deepEqual(errors, []);
    const gets = (await stub.stats()).session_get;
    await sleep(400);
    assert.equal((await stub.stats()).session_get, gets, "no polls after ended");
  } finally {
    client.dispose();
  }
});

test("connectVideoSession on the global WebSocket: joined, and kept across the token's expiry (refreshed in the background; consult-stub disconnects a socket whose sign-in's token expired); a dropped transport reconnects and joins with the new token", { timeout: TEST_TIMEOUT_MS }, async () => {
  const userId = "rn-video";
  const session = await stub.createSession({ status: "waiting" });
  // 6 s of life: the client refreshes it half-way (the margin is at most half the lifetime).
  const grant = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat RN", ttl_secs: 6 });
  const { client, events } = newClient(fakeAsyncStorage());
  const states = [];
  const joinedRooms = [];
  const statuses = [];
  const errors = [];
  const opened = sockets.length;
  let room;
  try {
    const before = await refreshOk();
    await client.setSession(grant);
    room = client.connectVideoSession({
      sessionId: session.session_id,
      roomId: session.room_id,
      userId,
      role: "PATIENT",
      reconnection: { delayMs: 200, maxDelayMs: 400 },
    });
    room.on("state", ({ state, reason }) => states.push(`${state}:${reason}`));
    room.on("joined_room", (joined) => joinedRooms.push(joined));
    room.on("session_status", ({ status }) => statuses.push(status));
    room.on("error", ({ code }) => errors.push(code));
    await until("joined", () => room.state === "joined");
    assert.equal(sockets.length - opened, 1, "one WebSocket, from the global constructor");
    assert.equal(joinedRooms[0]?.user_id, userId);

    // Past the first token's exp (+2 s: the stub checks its sockets every second). The stub
    // refreshes a token into one of the same lifetime (6 s), so the client refreshes every ~3 s:
    // the room is kept across several expiries.
    const expiresAt = JSON.parse(Buffer.from(grant.access_token.split(".")[1], "base64url").toString("utf8")).exp * 1000;
    await sleep(Math.max(0, expiresAt - Date.now()) + 2_000);
    const refreshed = () => events.filter(([name]) => name === "tokenRefreshed").map(([, token]) => token);
    assert.ok(refreshed().length >= 1, "refreshed in the background");
    assert.notEqual(client.tokenInfo().token, grant.access_token);
    // The room is kept: no state change, the same socket, and the room's events still arrive.
    await stub.patchSession(session.session_id, "active");
    await until("session_status active", () => statuses.includes("active"), 5_000);
    assert.equal(room.state, "joined");
    assert.deepEqual(states.map((s) => s.split(":")[0]), ["connecting", "connected", "joined"], `no state change (${states})`);
    assert.equal(sockets.length - opened, 1, "still the first WebSocket");
    assert.deepEqual(errors, [], "no error event from the server");

    // The transport drops (a locked phone, a network change): the client reconnects with a
    // current token and joins the room again.
    sockets.at(-1).terminate();
    await until("joined again", () => joinedRooms.length === 2 && room.state === "joined", 15_000);
    assert.equal(sockets.length - opened, 2, "a second WebSocket");
    const joins = (await stub.request("GET", "/api/dev/joins")).filter((j) => j.user_id === userId);
    assert.equal(joins.length, 2, `two joins (${JSON.stringify(joins)})`);
    assert.equal(joins[0].jti, jti(grant.access_token), "the first join with the first token");
    assert.ok(refreshed().map(jti).includes(joins[1].jti), "the second join with a refreshed token");
    const elapsedS = (Date.now() - expiresAt) / 1000 + 6;
    assert.equal((await refreshOk()) - before, refreshed().length, "one request per refresh, every refresh reported");
    assert.ok(refreshed().length <= elapsedS / 3 + 1, `no more refreshes than one per half lifetime (${refreshed().length} in ${elapsedS} s)`);
    await stub.patchSession(session.session_id, "ended");
    await until("session_status ended", () => statuses.includes("ended"), 5_000);
  } finally {
    room?.disconnect();
    client.dispose();
  }
});

test("connectVideoSession: a token the client believes valid but the server sees expired → CONNECT refused \"Token expired\" → one refresh → joined with the new token", { timeout: TEST_TIMEOUT_MS }, async () => {
  const userId = "rn-video-refused";
  const session = await stub.createSession({ status: "waiting" });
  // Expired 30 s ago; the device clock is 10 min slow, so the client sends it.
  const expired = await stub.mintToken({ user_id: userId, role: "PATIENT", name: "Pat RN", ttl_secs: -30 });
  const storage = fakeAsyncStorage({ authToken: expired.access_token, tokenExpiresAt: expired.expires_at });
  const { client } = newClient(storage, { autoRefresh: false, now: () => Date.now() - 600_000 });
  const states = [];
  let room;
  try {
    const before = await refreshOk();
    room = client.connectVideoSession({ sessionId: session.session_id, roomId: session.room_id, userId, role: "PATIENT" });
    room.on("state", ({ state, reason }) => states.push(`${state}:${reason}`));
    await until("joined", () => room.state === "joined", 15_000);
    const token = client.tokenInfo().token;
    assert.equal((await refreshOk()) - before, 1, "exactly one refresh");
    assert.ok(states.includes("refreshing:Token expired"), `refreshing for "Token expired" (${states})`);
    assert.equal(states.at(-1), "joined:joined_room");
    const joins = (await stub.request("GET", "/api/dev/joins")).filter((j) => j.user_id === userId);
    assert.deepEqual(joins.map((j) => j.jti), [jti(token)], "joined with the refreshed token");
    await until("AsyncStorage written", () => storage.map.get("authToken") === token);
  } finally {
    room?.disconnect();
    client.dispose();
  }
});

test("wakeOnAppState: AppState becoming active re-checks the token and refreshes it when the clock slept past the refresh time; background does not; the returned function stops it", { timeout: TEST_TIMEOUT_MS }, async () => {
  const grant = await stub.mintToken({ user_id: "rn-wake", ttl_secs: 3600 });
  let offsetMs = 0;
  const { client, events } = newClient(fakeAsyncStorage(), { now: () => Date.now() + offsetMs });
  const appState = fakeAppState();
  const stop = entry.wakeOnAppState(client, appState);
  try {
    await client.setSession(grant);
    const before = await refreshOk();
    // The phone was locked for 58 minutes: the timers slept, the token is now within the margin.
    offsetMs = 58 * 60_000;
    appState.change("background");
    await sleep(300);
    assert.equal((await refreshOk()) - before, 0, "going to the background does nothing");
    appState.change("active");
    await until("the refresh on wake-up", () => events.some(([name]) => name === "tokenRefreshed"), 5_000);
    assert.equal((await refreshOk()) - before, 1, "exactly one refresh");
    assert.notEqual(client.tokenInfo().token, grant.access_token);
    stop();
    assert.equal(appState.listeners.size, 0, "stopped listening");
  } finally {
    stop();
    client.dispose();
  }
});
