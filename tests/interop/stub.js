// Starts the real consult-stub binary (--dev) on 127.0.0.1 with a free port and a random JWT secret,
// and wraps its dev and auth endpoints for the tests.
//
//   const stub = await startStub();
//   const { access_token } = await stub.mintToken({ user_id: "alice" });
//   ...
//   await stub.stop();

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const DEFAULT_BIN = resolve(HERE, "..", "..", "target", "debug", "consult-stub");
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
const STDERR_KEPT = 16 * 1024;
const LISTENING = /listening on (http:\/\/\S+)/;

/** Path of the consult-stub binary: `CONSULT_STUB_BIN`, else `<repo>/target/debug/consult-stub`. */
export function stubBinary() {
  return process.env.CONSULT_STUB_BIN || DEFAULT_BIN;
}

/**
 * Starts consult-stub and resolves once it prints its address.
 * @param {string[]} extraArgs more flags, e.g. ["--reuse-window", "1s"]
 * @param {{port?: number, secret?: string, env?: Record<string, string>}} fixed a port and secret
 *   to reuse (to restart a stub in place: same address, and tokens minted before the restart stay
 *   valid), and more environment variables (e.g. libfaketime's LD_PRELOAD and FAKETIME)
 */
export async function startStub(extraArgs = [], fixed = {}) {
  const bin = stubBinary();
  if (!existsSync(bin)) {
    throw new Error(
      `consult-stub binary not found at ${bin}: run \`cargo build -p consult-stub\` or set CONSULT_STUB_BIN`,
    );
  }
  // --dev: the tests mint tokens and create sessions through /api/dev/*. The secret goes in the
  // environment, never on the command line (where `ps` shows it).
  const args = ["--dev", "--bind", "127.0.0.1", "--port", String(fixed.port ?? 0), ...extraArgs];
  const env = { ...process.env, ...fixed.env, CONSULT_JWT_SECRET: fixed.secret ?? randomBytes(32).toString("hex") };
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT);
  });
  const exited = new Promise((resolveExit) => {
    child.once("close", (code, signal) => resolveExit({ code, signal }));
  });

  let url;
  try {
    url = await waitForAddress(child, exited, () => stderr);
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    process.removeListener("exit", killOnExit);
    throw err;
  }

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const forced = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(forced);
    }
    process.removeListener("exit", killOnExit);
  };

  return { url, stop, pid: child.pid, ...api(url), stderr: () => stderr };
}

function waitForAddress(child, exited, stderr) {
  return new Promise((resolveUrl, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => {
      reject(new Error(`consult-stub did not print its address within ${START_TIMEOUT_MS} ms\nstderr:\n${stderr()}`));
    }, START_TIMEOUT_MS);
    lines.on("line", (line) => {
      const match = LISTENING.exec(line);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`consult-stub could not start: ${err.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`consult-stub exited before listening (code ${code}, signal ${signal})\nstderr:\n${stderr()}`));
    });
  });
}

/** The HTTP calls the tests need, over global fetch. Unexpected statuses throw with the body. */
function api(url) {
  async function call(method, path, { body, token, expect = 200 } = {}) {
    const headers = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const response = await fetch(url + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status !== expect) {
      throw new Error(`${method} ${path}: expected ${expect}, got ${response.status}: ${text}`);
    }
    return text ? JSON.parse(text) : undefined;
  }

  return {
    /** Raw call: `request("GET", "/api/...", { token, body, expect })`. */
    request: call,
    /** `POST /api/dev/token`; `opts` = {user_id, email?, role?, name?, ttl_secs?}. */
    mintToken: (opts) => call("POST", "/api/dev/token", { body: opts }),
    /** `POST /api/dev/sessions` (201); `opts` = {session_id?, room_id?, status?, participants?}. */
    createSession: (opts = {}) => call("POST", "/api/dev/sessions", { body: opts, expect: 201 }),
    /** `PATCH /api/dev/sessions/{id}`: changes the status and pushes `session_status` to the room. */
    patchSession: (id, status) =>
      call("PATCH", `/api/dev/sessions/${encodeURIComponent(id)}`, { body: { status } }),
    /** `POST /api/video/auth/refresh-token` with a (possibly expired) token. */
    refresh: (token) => call("POST", "/api/video/auth/refresh-token", { token }),
    /** `POST /api/video/auth/logout` (204): revokes the token's sign-in. */
    logout: (token) => call("POST", "/api/video/auth/logout", { token, expect: 204 }),
    /** `GET /api/dev/stats`. */
    stats: () => call("GET", "/api/dev/stats"),
  };
}
