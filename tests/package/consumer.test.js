// A plain-JavaScript consumer of the built npm package (its Node entry, target/pkg/node.js):
// it proves the package, not just the crate. Runs in Node 20 — no window, so memory storage or a
// custom StorageAdapter — against a real consult-stub started for this file, through the public
// JS API only. Build the package first: scripts/build-package.sh (scripts/test-package.sh does).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";

import { startStub } from "../interop/stub.js";
import { PKG_FILES, missingPackage } from "../support/package-page.mjs";

const NODE_ENTRY = PKG_FILES[2];

/** Loads and initialises the package once; a missing package is an error every test reports. */
async function loadPackage() {
  const missing = missingPackage();
  if (missing) return missing;
  // The Node entry instantiates the wasm itself, synchronously: nothing to initialise.
  return import(pathToFileURL(NODE_ENTRY).href);
}
const loaded = await loadPackage();
function pkg() {
  if (loaded instanceof Error) throw loaded;
  return loaded;
}

let stub;
before(async () => {
  stub = await startStub();
});
after(async () => {
  await stub?.stop();
});

async function refreshOk() {
  return (await stub.stats()).refresh_ok;
}

/** A StorageAdapter over a Map (sync methods), pre-filled with the seed's keys. */
function mapStorage(entries) {
  const map = new Map(Object.entries(entries));
  return {
    map,
    getItem: (key) => map.get(key) ?? null,
    setItem: (key, value) => {
      map.set(key, value);
    },
    removeItem: (key) => {
      map.delete(key);
    },
  };
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected the promise to reject");
}

test("the package exports the documented API", () => {
  const { ConsultClient, SessionPoller, configure, getValidToken, refreshAuthToken, getSessionDetails } = pkg();
  for (const [name, value] of Object.entries({
    ConsultClient, SessionPoller, configure, getValidToken, refreshAuthToken, getSessionDetails,
  })) {
    assert.equal(typeof value, "function", `${name} is exported`);
  }
});

test("scenario 1 (setSession): an already-expired token is refreshed once by getValidToken()", async () => {
  const { ConsultClient } = pkg();
  const expired = await stub.mintToken({ user_id: "patient-s1", ttl_secs: -60 });
  const client = new ConsultClient({ baseUrl: stub.url, storage: "memory" });
  try {
    // Counted from before setSession: the auto-refresh may start the refresh right after it.
    const before = await refreshOk();
    await client.setSession(expired);
    const token = await client.getValidToken();
    const refreshes = (await refreshOk()) - before;
    const info = client.tokenInfo();
    assert.equal(
      refreshes,
      1,
      `expected exactly 1 refresh, got ${refreshes}; the client reported ` +
        `skewMs=${info?.skewMs}, expiresInMs=${info?.expiresInMs} for a token that expired 60 s ago ` +
        "(setSession measures clock skew from the token's iat, so an old token looks fresh)",
    );
    assert.notEqual(token, expired.access_token, "getValidToken() returned the expired token");
    assert.equal(client.tokenInfo()?.token, token);
    assert.equal(client.tokenInfo()?.refreshCount, 1);
  } finally {
    client.dispose();
  }
});

test("scenario 1 (stored, seed keys): an expired token in storage is refreshed once", async () => {
  const { ConsultClient } = pkg();
  const expired = await stub.mintToken({ user_id: "patient-s1-stored", ttl_secs: -60 });
  const storage = mapStorage({ authToken: expired.access_token, tokenExpiresAt: expired.expires_at });
  const client = new ConsultClient({ baseUrl: stub.url, storage });
  try {
    const before = await refreshOk();
    const token = await client.getValidToken();
    assert.equal((await refreshOk()) - before, 1, "exactly one refresh request");
    assert.notEqual(token, expired.access_token);
    assert.equal(storage.map.get("authToken"), token, "storage holds the new token");
    const storedExpiry = Date.parse(storage.map.get("tokenExpiresAt"));
    assert.ok(storedExpiry > Date.now() + 3 * 3600_000, "storage holds the new expiry");
  } finally {
    client.dispose();
  }
});

test("scenario 2: 100 concurrent getValidToken() on an expired stored token -> exactly 1 refresh", async () => {
  const { ConsultClient } = pkg();
  const expired = await stub.mintToken({ user_id: "patient-s2-expired", ttl_secs: -60 });
  const storage = mapStorage({ authToken: expired.access_token, tokenExpiresAt: expired.expires_at });
  const client = new ConsultClient({ baseUrl: stub.url, storage });
  try {
    const before = await refreshOk();
    const tokens = await Promise.all(Array.from({ length: 100 }, () => client.getValidToken()));
    assert.equal((await refreshOk()) - before, 1, "exactly one refresh request");
    assert.equal(new Set(tokens).size, 1, "all 100 callers got the same token");
    assert.notEqual(tokens[0], expired.access_token);
  } finally {
    client.dispose();
  }
});

test("scenario 2: 100 concurrent getValidToken() inside the margin (clock 3 h 58 min on) -> exactly 1 refresh", async () => {
  const { ConsultClient } = pkg();
  const fresh = await stub.mintToken({ user_id: "patient-s2-margin" });
  const storage = mapStorage({ authToken: fresh.access_token, tokenExpiresAt: fresh.expires_at });
  const ahead = (4 * 60 - 2) * 60_000; // the 4 h token has 2 min left: inside the 5 min margin
  const client = new ConsultClient({ baseUrl: stub.url, storage, now: () => Date.now() + ahead });
  try {
    const before = await refreshOk();
    const tokens = await Promise.all(Array.from({ length: 100 }, () => client.getValidToken()));
    assert.equal((await refreshOk()) - before, 1, "exactly one refresh request");
    assert.equal(new Set(tokens).size, 1, "all 100 callers got the same token");
    assert.notEqual(tokens[0], fresh.access_token, "the token inside the margin was replaced");
    // The new token is not due: another call does not refresh again.
    assert.equal(await client.getValidToken(), tokens[0]);
    assert.equal((await refreshOk()) - before, 1, "no second refresh");
  } finally {
    client.dispose();
  }
});

test("errors are Error objects with a stable code and retryable: getValidToken() without a session", async () => {
  const { ConsultClient } = pkg();
  const client = new ConsultClient({ baseUrl: stub.url, storage: "memory" });
  try {
    const error = await rejection(client.getValidToken());
    assert.ok(error instanceof Error, "an Error instance");
    assert.equal(error.name, "ConsultError");
    assert.equal(error.code, "NO_TOKEN");
    assert.equal(typeof error.retryable, "boolean");
    assert.equal(error.retryable, false);
    assert.equal(error.status, undefined);
    assert.equal(typeof error.message, "string");
  } finally {
    client.dispose();
  }
});

test("errors: a bad option is a TypeError thrown by the constructor", () => {
  const { ConsultClient } = pkg();
  assert.throws(() => new ConsultClient({}), TypeError);
  assert.throws(() => new ConsultClient({ baseUrl: stub.url, storage: "cookie" }), TypeError);
});

test("seed-compatible helpers: getValidToken() rejects with NO_TOKEN before configure() and before a session", async () => {
  const { configure, getValidToken, refreshAuthToken } = pkg();
  const unconfigured = await rejection(getValidToken());
  assert.ok(unconfigured instanceof Error);
  assert.equal(unconfigured.code, "NO_TOKEN");

  configure({ baseUrl: stub.url, storage: "memory" });
  const noSession = await rejection(getValidToken());
  assert.ok(noSession instanceof Error);
  assert.equal(noSession.code, "NO_TOKEN");
  assert.equal(typeof noSession.retryable, "boolean");
  const noRefresh = await rejection(refreshAuthToken());
  assert.equal(noRefresh.code, "NO_TOKEN");
});

test("dispose() lets Node exit promptly with a session set (auto-refresh timer stopped)", async () => {
  pkg();
  const { access_token, expires_at } = await stub.mintToken({ user_id: "patient-exit" });
  // A child process: the test runner's own process would hide a timer that keeps Node alive.
  const script = `
    const pkg = await import(${JSON.stringify(pathToFileURL(NODE_ENTRY).href)});
    const client = new pkg.ConsultClient({ baseUrl: ${JSON.stringify(stub.url)}, storage: "memory" });
    await client.setSession({ access_token: ${JSON.stringify(access_token)}, expires_at: ${JSON.stringify(expires_at)} });
    client.dispose();
    console.log("disposed");
  `;
  const limitMs = 5_000;
  const started = Date.now();
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((done) => child.once("close", (code) => done(code)));
  const timer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  const code = await exited;
  clearTimeout(timer);
  const tookMs = Date.now() - started;
  assert.match(output, /disposed/, `the child did not get to dispose(): ${output}`);
  assert.ok(
    code === 0 && tookMs < limitMs,
    `Node did not exit within ${limitMs} ms of dispose() (killed: ${code !== 0}, ${tookMs} ms): ` +
      "a pending auto-refresh sleep (up to 30 s) keeps the event loop alive",
  );
});
