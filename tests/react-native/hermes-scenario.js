// A scripted scenario for the React Native entry in the Hermes engine (tests/react-native/
// hermes.test.js bundles it with the entry by esbuild, transforms the bundle with React Native's
// Babel preset and runs it with the `hermes` CLI of npm hermes-engine-cli). It prints one line,
// `RESULT {json}`, that the test asserts; any exception prints `FAILED …`.
//
// The Hermes CLI is the bare engine: React Native's InitializeCore adds `window` (the global
// object), its timers, fetch and AbortController, which are installed here as stand-ins (fetch
// answers the refresh request with a scripted answer). The client is disposed at the end, which
// stops its timers, so Hermes exits.
//
// __SCENARIO__ is defined by the test: { baseUrl, oldToken, newToken, newExpiresAt, user }.

import { ConsultClient, asyncStorageAdapter, wakeOnAppState } from "../../target/pkg-react-native/index.js";

const scenario = __SCENARIO__;
const out = typeof print === "function" ? print : (line) => console.log(line);

// What the engine has, before anything is installed.
const engine = {
  WebAssembly: typeof WebAssembly,
  TextDecoder: typeof TextDecoder,
  TextEncoder: typeof TextEncoder,
  localStorage: typeof localStorage,
  BroadcastChannel: typeof BroadcastChannel,
  navigator: typeof navigator,
  fetch: typeof fetch,
  HermesInternal: typeof HermesInternal,
};

// ---- React Native's additions to the engine (InitializeCore), as stand-ins -------------------

globalThis.window = globalThis;

// React Native's timers (JSTimers) wait their delay and accept any id in clearTimeout; the Hermes
// CLI's run at once, in order, and throw on `clearTimeout(undefined)`. These wait (by re-queueing
// a check on the engine's timer queue) and are cleared as React Native's are.
const engineSetTimeout = globalThis.setTimeout;
const timers = new Map();
let nextTimer = 1;
let ticking = false;
function tick() {
  ticking = false;
  const now = Date.now();
  for (const [id, timer] of [...timers]) {
    if (timer.at <= now && timers.has(id)) {
      timers.delete(id);
      timer.callback(...timer.args);
    }
  }
  if (timers.size > 0 && !ticking) {
    ticking = true;
    engineSetTimeout(tick, 0);
  }
}
globalThis.setTimeout = (callback, delay, ...args) => {
  const id = nextTimer++;
  timers.set(id, { at: Date.now() + (Number(delay) || 0), callback, args });
  if (!ticking) {
    ticking = true;
    engineSetTimeout(tick, 0);
  }
  return id;
};
globalThis.clearTimeout = (id) => {
  timers.delete(id);
};

function AbortSignal() {
  this.aborted = false;
  this.listeners = [];
}
AbortSignal.prototype.addEventListener = function (name, listener) {
  if (name === "abort") this.listeners.push(listener);
};
AbortSignal.prototype.removeEventListener = function (name, listener) {
  this.listeners = this.listeners.filter((l) => l !== listener);
};
globalThis.AbortController = function AbortController() {
  this.signal = new AbortSignal();
};
globalThis.AbortController.prototype.abort = function () {
  if (this.signal.aborted) return;
  this.signal.aborted = true;
  for (const listener of this.signal.listeners) listener();
};

const requests = [];
globalThis.fetch = (url, init) => {
  const authorization = init?.headers?.Authorization ?? init?.headers?.authorization;
  requests.push({ url: String(url), method: init?.method, authorization });
  if (!String(url).endsWith("/api/video/auth/refresh-token")) {
    return Promise.reject(new TypeError("Network request failed"));
  }
  const body = JSON.stringify({
    access_token: scenario.newToken,
    token_type: "bearer",
    expires_at: scenario.newExpiresAt,
    expires_in: 14400,
    user: scenario.user,
  });
  const headers = { date: new Date().toUTCString() };
  return Promise.resolve({
    status: 200,
    ok: true,
    headers: { get: (name) => headers[String(name).toLowerCase()] ?? null },
    text: () => Promise.resolve(body),
  });
};

// AsyncStorage (its API, promise-returning) holding the seed's keys, as the app left them.
const stored = new Map([
  ["authToken", scenario.oldToken],
  ["tokenExpiresAt", scenario.oldExpiresAt],
]);
const AsyncStorage = {
  getItem: (key) => Promise.resolve(stored.has(key) ? stored.get(key) : null),
  setItem: (key, value) => Promise.resolve(void stored.set(key, value)),
  removeItem: (key) => Promise.resolve(void stored.delete(key)),
};
const appListeners = [];
const AppState = {
  addEventListener: (type, listener) => {
    appListeners.push(listener);
    return { remove: () => appListeners.splice(appListeners.indexOf(listener), 1) };
  },
};

// ---- the scenario -----------------------------------------------------------------------------

async function run() {
  const client = new ConsultClient({ baseUrl: scenario.baseUrl, storage: asyncStorageAdapter(AsyncStorage) });
  const stopWaking = wakeOnAppState(client, AppState);
  const events = [];
  client.on("tokenChanged", (info) => events.push(["tokenChanged", info?.token === scenario.newToken ? "new" : info?.token === scenario.oldToken ? "old" : String(info?.token)]));
  client.on("tokenRefreshed", (info) => events.push(["tokenRefreshed", info?.token === scenario.newToken ? "new" : String(info?.token)]));
  client.on("refreshFailed", (error) => events.push(["refreshFailed", error.code]));
  client.on("sessionExpired", (error) => events.push(["sessionExpired", error.code]));
  try {
    // Five callers at once: the stored token is parsed, found due (2 minutes left), one refresh
    // is sent, its answer adopted; everybody gets the new token.
    const tokens = await Promise.all([1, 2, 3, 4, 5].map(() => client.getValidToken()));
    const info = client.tokenInfo();
    // An app coming back to the foreground: the token is fresh, nothing is sent.
    for (const listener of appListeners.slice()) listener("active");
    const again = await client.getValidToken();
    return {
      engine,
      tokens: tokens.map((t) => (t === scenario.newToken ? "new" : t === scenario.oldToken ? "old" : String(t))),
      again: again === scenario.newToken ? "new" : String(again),
      requests: requests.map((r) => ({
        path: r.url.slice(scenario.baseUrl.length),
        method: r.method,
        token: r.authorization === "Bearer " + scenario.oldToken ? "old" : String(r.authorization),
      })),
      events,
      expiresAt: info?.expiresAt,
      refreshCount: info?.refreshCount,
      stored: stored.get("authToken") === scenario.newToken ? "new" : String(stored.get("authToken")),
      storedExpiresAt: stored.get("tokenExpiresAt"),
    };
  } finally {
    stopWaking();
    client.dispose();
  }
}

run().then(
  (result) => out("RESULT " + JSON.stringify({ ...result, timersLeft: timers.size })),
  (error) => out("FAILED " + (error?.code ?? "") + " " + (error?.message ?? String(error)) + "\n" + (error?.stack ?? "")),
);
