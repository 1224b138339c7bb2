// The npm client (the package's Node entry) against consult-stub beyond one process (issue 12):
// a real redis-server on a free loopback port, two consult-stub instances sharing it (--redis)
// behind consult-proxy (round robin, WebSockets included). The client polls a session and holds
// its room (Node's WebSocket: the `ws` package's, as a page or React Native provides one) while
//   - an instance is killed and restarted: nobody signed out, polling resumes, the room is
//     joined again, and a revocation made before is still refused;
//   - Redis stops answering for a while: 503s with Retry-After, the client backs off, nobody is
//     signed out, full service once Redis answers again.
// Build first: scripts/build-package.sh and `cargo build -p consult-stub` (test-package.sh does).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { WebSocket as NodeWebSocket } from "ws";

import { startStub, stubBinary } from "../interop/stub.js";
import { PKG_FILES } from "../support/package-page.mjs";
import { PROXY_BIN, startProxy, startRedis, until } from "../support/stub-cluster.mjs";

const NODE_ENTRY = PKG_FILES[2];
const TEST_TIMEOUT_MS = 90_000;
const SECRET = randomBytes(32).toString("hex");

let redis;
let instances;
let proxy;
let baseUrl;
let pkg;

async function startInstance(port) {
  return startStub(["--redis", redis.url], { port, secret: SECRET });
}

before(async () => {
  for (const [file, hint] of [
    [NODE_ENTRY, "run scripts/build-package.sh"],
    [stubBinary(), "run cargo build -p consult-stub"],
    [PROXY_BIN, "run cargo build -p consult-stub (it builds consult-proxy too)"],
  ]) {
    if (!existsSync(file)) throw new Error(`${file} missing: ${hint}`);
  }
  redis = await startRedis();
  instances = [await startInstance(0), await startInstance(0)];
  proxy = await startProxy(instances);
  baseUrl = proxy.url;
  globalThis.WebSocket = NodeWebSocket;
  pkg = await import(pathToFileURL(NODE_ENTRY).href);
});

after(async () => {
  await proxy?.stop();
  for (const instance of instances ?? []) await instance.stop();
  await redis?.stop();
});

/** A signed-in client polling `session` and holding its room; everything it reports, recorded. */
async function consultation(user) {
  const minted = await instances[1].mintToken({ user_id: user, role: "PATIENT", name: user });
  const session = await instances[1].createSession({ participants: [user] });
  const client = new pkg.ConsultClient({ baseUrl, storage: "memory" });
  const seen = { statuses: [], errors: [], ended: null, expired: 0, states: [] };
  client.on("sessionExpired", () => seen.expired++);
  await client.setSession(minted);
  const poller = client.pollSession(session.session_id, {
    intervalMs: 200,
    onUpdate: (details) => seen.statuses.push(details.status),
    onError: (error) => seen.errors.push(`${error.code}${error.status ? " " + error.status : ""}`),
    onEnd: (reason) => (seen.ended = reason),
  });
  const room = client.connectVideoSession({ sessionId: session.session_id, roomId: session.room_id, userId: user, role: "PATIENT" });
  room.on("state", ({ state }) => seen.states.push(state));
  await until(`${user} joined the room`, () => room.state === "joined");
  await until(`${user}'s first poll`, () => seen.statuses.length >= 1);
  return { client, poller, room, seen, session };
}

test("an instance killed and restarted: the npm client stays signed in, polls again, re-joins the room; a revocation is not lost", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { client, poller, room, seen, session } = await consultation("patient-cluster-restart");
  // Another sign-in, revoked (logout) before the restart.
  const other = await instances[0].mintToken({ user_id: "patient-cluster-revoked" });
  await instances[0].logout(other.access_token);
  try {
    const [a] = instances;
    const port = Number(new URL(a.url).port);
    const joinsBefore = seen.states.filter((s) => s === "joined").length;
    process.kill(a.pid, "SIGKILL");
    await a.stop();
    await new Promise((done) => setTimeout(done, 1_000));
    instances[0] = await startInstance(port);
    // A change made through either instance reaches the poller: polling goes on.
    await instances[0].patchSession(session.session_id, "active");
    await until("polling saw the change after the restart", () => seen.statuses.includes("active"));
    // The connection to the killed instance (if it was there) is lost and joined again; either
    // way the room is held at the end, and a forced refresh still works through both instances.
    await until("the room is joined", () => room.state === "joined");
    const fresh = await client.refreshAuthToken();
    assert.equal(typeof fresh, "string");
    assert.equal(seen.expired, 0, `nobody signed out (states ${seen.states.join(" ")}; errors ${seen.errors.join(", ")})`);
    assert.equal(seen.ended, null, "polling did not end");
    assert.ok(seen.states.filter((s) => s === "joined").length >= joinsBefore, "joined");
    for (const instance of instances) {
      const replay = await fetch(`${instance.url}/api/video/auth/refresh-token`, {
        method: "POST",
        headers: { authorization: `Bearer ${other.access_token}` },
      });
      assert.equal(replay.status, 401, `the revoked sign-in stays revoked at ${instance.url}`);
    }
  } finally {
    poller.stop();
    room.disconnect();
    client.dispose();
  }
});

test("Redis stops answering for 6 s: 503s, the client backs off, nobody signed out, full service after", { timeout: TEST_TIMEOUT_MS }, async () => {
  const { client, poller, room, seen, session } = await consultation("patient-cluster-outage");
  try {
    redis.process.kill("SIGSTOP");
    const outageStarted = Date.now();
    await until("a 503 during the outage", () => seen.errors.some((e) => e === "HTTP 503"));
    await new Promise((done) => setTimeout(done, Math.max(0, 6_000 - (Date.now() - outageStarted))));
    const errorsDuringOutage = seen.errors.length;
    redis.process.kill("SIGCONT");
    await until("the store answers again", () => instances[1].patchSession(session.session_id, "active").then(() => true, () => false));
    await until("polling saw the change after Redis returned", () => seen.statuses.includes("active"));
    const token = await client.refreshAuthToken();
    assert.equal(typeof token, "string", "a refresh works again");
    assert.equal(seen.expired, 0, `nobody signed out (errors ${seen.errors.join(", ")})`);
    assert.equal(seen.ended, null, "polling did not end");
    // Every 200 ms without backoff would be ~30 failed polls in 6 s.
    assert.ok(errorsDuringOutage <= 15, `the client backed off: ${errorsDuringOutage} failed polls in 6 s`);
    await until("the room is joined", () => room.state === "joined");
  } finally {
    poller.stop();
    room.disconnect();
    client.dispose();
  }
});
