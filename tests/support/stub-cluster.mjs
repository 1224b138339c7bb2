// Harness for tests that run consult-stub as several instances (tests/package/cluster.test.js,
// tests/package/fault-soak.test.js): a real redis-server on a free loopback port, consult-proxy in
// front of the instances, libfaketime to give an instance its own wall clock, and the small waits
// they need.
//
//   const redis = await startRedis();
//   const a = await startStub(["--redis", redis.url], { secret });
//   const b = await startStub(["--redis", redis.url], { secret, env: clockOffsetEnv(-7) });
//   const proxy = await startProxy([a, b]);   // proxy.url: round robin per connection (in turns per request line)
//   ...
//   await proxy.stop(); await a.stop(); await b.stop(); await redis.stop();

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { stubBinary } from "../interop/stub.js";

/** consult-proxy, built with consult-stub (same target directory). */
export const PROXY_BIN = join(dirname(stubBinary()), "consult-proxy");

/** A free TCP port on 127.0.0.1 (closed again before it is used). */
export async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

/** Waits until `check()` is truthy (polled every 50 ms), or fails with `what`. */
export async function until(what, check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function accepting(port) {
  const socket = new Socket();
  return new Promise((done) => {
    socket.once("connect", () => done(socket.end() || true));
    socket.once("error", () => done(false));
    socket.connect(port, "127.0.0.1");
  });
}

/**
 * A redis-server of its own (Debian's, installed by scripts/setup.sh): 127.0.0.1, a free port,
 * append-only file in a temporary folder and no eviction (what consult-stub requires). Resolves
 * once it accepts connections, to { url, port, process, stop() }.
 */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "consult-redis-"));
  const child = spawn(
    "redis-server",
    ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly", "yes", "--maxmemory-policy", "noeviction", "--dir", dir],
    { stdio: "ignore" },
  );
  const spawned = await new Promise((done) => {
    child.once("spawn", () => done(null));
    child.once("error", done);
  });
  if (spawned) throw new Error(`redis-server could not start (scripts/setup.sh installs it): ${spawned.message}`);
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  await until("redis-server accepting connections", () => accepting(port));
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: child,
    async stop() {
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      process.removeListener("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * consult-proxy on a free loopback port in front of `instances` (startStub results), one
 * connection to each in turn. Resolves once it answers, to { url, stop() }.
 */
export async function startProxy(instances) {
  if (!existsSync(PROXY_BIN)) throw new Error(`${PROXY_BIN} missing: run cargo build -p consult-stub (it builds consult-proxy too)`);
  const port = await freePort();
  const backends = instances.flatMap((instance) => ["--backend", new URL(instance.url).host]);
  const child = spawn(PROXY_BIN, ["--listen", `127.0.0.1:${port}`, ...backends], { stdio: "ignore" });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const url = `http://127.0.0.1:${port}`;
  await until("consult-proxy answering", () => fetch(`${url}/api/dev/stats`).then((r) => r.ok, () => false));
  return {
    url,
    async stop() {
      child.kill("SIGKILL");
      process.removeListener("exit", killOnExit);
    },
  };
}

/** Where Debian's libfaketime is ($LIBFAKETIME first), or null. */
export function libfaketime() {
  const arch = { x64: "x86_64", arm64: "aarch64" }[process.arch] ?? process.arch;
  const candidates = [process.env.LIBFAKETIME, `/usr/lib/${arch}-linux-gnu/faketime/libfaketime.so.1`, "/usr/lib/faketime/libfaketime.so.1"];
  return candidates.find((file) => file && existsSync(file)) ?? null;
}

/**
 * The environment that runs a process with its wall clock `seconds` off the machine's
 * (libfaketime through LD_PRELOAD; monotonic time left alone, so the process's timers are
 * untouched). For startStub's `env`. Throws when libfaketime is not installed.
 */
export function clockOffsetEnv(seconds) {
  const lib = libfaketime();
  if (!lib) throw new Error("libfaketime not found: run scripts/setup.sh (installs Debian's faketime) or set LIBFAKETIME");
  return { LD_PRELOAD: lib, FAKETIME: `${seconds >= 0 ? "+" : ""}${seconds}s`, FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}
