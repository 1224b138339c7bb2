// A scripted scenario for the React Native entry in the Hermes engine (tests/react-native/
// hermes.test.js bundles it with the entry by esbuild, transforms the bundle with React Native's
// Babel preset and runs it with the `hermes` CLI of npm hermes-engine-cli). It prints one line,
// `RESULT {json}`, that the test asserts; any exception prints `FAILED …`.
//
// The Hermes CLI is the bare engine: hermes-env.js installs what React Native adds (`window`, its
// timers, AbortController); fetch is a stand-in here that answers the refresh request with a
// scripted answer. The client is disposed at the end, which stops its timers, so Hermes exits.
//
// __SCENARIO__ is defined by the test: { baseUrl, oldToken, newToken, newExpiresAt, user }.

import { engine, pendingTimers } from "./hermes-env.js";
import { ConsultClient, asyncStorageAdapter, wakeOnAppState } from "../../target/pkg/react-native/index.js";

const scenario = __SCENARIO__;
const out = typeof print === "function" ? print : (line) => console.log(line);

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
  (result) => out("RESULT " + JSON.stringify({ ...result, timersLeft: pendingTimers() })),
  (error) => out("FAILED " + (error?.code ?? "") + " " + (error?.message ?? String(error)) + "\n" + (error?.stack ?? "")),
);
