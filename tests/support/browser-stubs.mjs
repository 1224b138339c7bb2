// Starts the consult-stub instances the browser tests need, and a small control server that
// lets a test stop and start one of them (a real "server down", not a mock):
//
//   main         defaults (30 s reuse window)
//   reuse0       --reuse-window 0s
//   restartable  fixed port and secret, 1 s Engine.IO ping interval and timeout; the control
//                server's POST /stop and /start restart it, POST /pause and /resume freeze it
//                (SIGSTOP/SIGCONT: a server that stops answering pings)
//
// Prints one JSON line {main, reuse0, restartable, supervisor} and runs until SIGTERM/SIGINT.
// Everything binds 127.0.0.1.

import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { startStub } from "../interop/stub.js";

const main = await startStub();
const reuse0 = await startStub(["--reuse-window", "0s"]);
const secret = randomBytes(32).toString("hex");
// The session "restart-room" survives restarts: the stub creates it at every start.
const RESTARTABLE_ARGS = ["--ping-interval", "1s", "--ping-timeout", "1s", "--create-session", "restart-room"];
let restartable = await startStub(RESTARTABLE_ARGS, { secret });
const port = Number(new URL(restartable.url).port);
let running = true;

async function control(path) {
  if (path === "/stop" && running) {
    await restartable.stop();
    running = false;
  } else if (path === "/start" && !running) {
    restartable = await startStub(RESTARTABLE_ARGS, { secret, port });
    running = true;
  } else if (path === "/pause" && running) {
    process.kill(restartable.pid, "SIGSTOP");
  } else if (path === "/resume" && running) {
    process.kill(restartable.pid, "SIGCONT");
  } else if (!["/stop", "/start", "/pause", "/resume"].includes(path)) {
    return 404;
  }
  return 200;
}

const server = createServer(async (request, response) => {
  const headers = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "POST, OPTIONS",
    "access-control-allow-headers": "content-type",
    "content-type": "application/json",
  };
  if (request.method === "OPTIONS") {
    response.writeHead(204, headers).end();
    return;
  }
  try {
    const status = await control(request.url);
    response.writeHead(status, headers).end(JSON.stringify({ running }));
  } catch (error) {
    response.writeHead(500, headers).end(JSON.stringify({ error: String(error) }));
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));

const shutdown = async () => {
  server.close();
  if (running) process.kill(restartable.pid, "SIGCONT");
  await Promise.allSettled([main.stop(), reuse0.stop(), running ? restartable.stop() : undefined]);
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

console.log(JSON.stringify({
  main: main.url,
  reuse0: reuse0.url,
  restartable: restartable.url,
  supervisor: `http://127.0.0.1:${server.address().port}`,
}));
