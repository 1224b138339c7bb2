// Starts the consult-stub instances the browser tests need, and a small control server that
// lets a test stop and start one of them (a real "server down", not a mock):
//
//   main         defaults (30 s reuse window)
//   reuse0       --reuse-window 0s
//   restartable  fixed port and secret; POST /stop and POST /start on the control server
//
// Prints one JSON line {main, reuse0, restartable, supervisor} and runs until SIGTERM/SIGINT.
// Everything binds 127.0.0.1.

import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { startStub } from "../interop/stub.js";

const main = await startStub();
const reuse0 = await startStub(["--reuse-window", "0s"]);
const secret = randomBytes(32).toString("hex");
let restartable = await startStub([], { secret });
const port = Number(new URL(restartable.url).port);
let running = true;

async function control(path) {
  if (path === "/stop" && running) {
    await restartable.stop();
    running = false;
  } else if (path === "/start" && !running) {
    restartable = await startStub([], { secret, port });
    running = true;
  } else if (path !== "/stop" && path !== "/start") {
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
