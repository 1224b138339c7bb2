// Socket soak: opens SOCKETS websocket-only Socket.IO connections to a local consult-stub, each
// with its own minted token, joins them pairwise into ROOMS rooms (one session per room, created
// through the dev endpoint), waits until every socket has received `joined_room`, then reads the
// server's resident memory from /proc/PID/status and prints it, disconnects and exits.
//
//   node tests/bench/soak.js http://127.0.0.1:PORT SERVER_PID [SOCKETS=2000] [PER_ROOM=2]
//
// Why pairs: every join is broadcast (`participant_joined`) to the others in the room, so N sockets
// in one room cost ~N²/2 messages; rooms of 2 (a doctor and a patient, as in a consultation)
// measure connections, not a broadcast storm.
//
// Bounded: loopback only, SOCKETS connections, at most CONNECT_CONCURRENCY handshakes in flight,
// fails after 120 s. Prints `RESULT key=value` lines for scripts/bench.sh.
import { readFileSync } from "node:fs";
import { io } from "socket.io-client";

const [base, pidArg, socketsArg, perRoomArg] = process.argv.slice(2);
if (!base || !pidArg) {
  console.error("usage: soak.js BASE_URL SERVER_PID [SOCKETS] [PER_ROOM]");
  process.exit(2);
}
const url = new URL(base);
if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
  console.error(`refusing to load ${url.hostname}: loopback only`);
  process.exit(2);
}
const pid = Number(pidArg);
const SOCKETS = Number(socketsArg ?? 2000);
const PER_ROOM = Number(perRoomArg ?? 2);
const ROOMS = Math.ceil(SOCKETS / PER_ROOM);
const HTTP_CONCURRENCY = 32;
const CONNECT_CONCURRENCY = 200;
const LIMIT_MS = 120_000;

const started = Date.now();
const sockets = [];
let joined = 0; // sockets that received joined_room
let presence = 0; // participant_joined events received
const watchdog = setTimeout(() => {
  console.error(`soak: FAILED: not done after ${LIMIT_MS / 1000} s (joined ${joined}/${SOCKETS})`);
  for (const s of sockets) s.disconnect();
  process.exit(1);
}, LIMIT_MS);

/** Memory lines of /proc/PID/status, in kB. */
function memory() {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS"), hwm: kb("VmHWM"), threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]) };
}

async function post(path, body) {
  const res = await fetch(new URL(path, url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Runs `task(i)` for i in 0..n with at most `limit` at a time. */
async function pool(n, limit, task) {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
}

const before = memory();

// 1. One session per room, with its participants; one token per socket.
const userOf = (i) => `soak-${Math.floor(i / PER_ROOM)}-${i % PER_ROOM}`;
const roomOf = (i) => `soak-room-${Math.floor(i / PER_ROOM)}`;
await pool(ROOMS, HTTP_CONCURRENCY, (r) =>
  post("/api/dev/sessions", {
    session_id: `soak-session-${r}`,
    room_id: `soak-room-${r}`,
    participants: Array.from({ length: PER_ROOM }, (_, k) => `soak-${r}-${k}`),
  }),
);
const tokens = new Array(SOCKETS);
await pool(SOCKETS, HTTP_CONCURRENCY, async (i) => {
  const role = i % PER_ROOM === 0 ? "DOCTOR" : "PATIENT";
  tokens[i] = (await post("/api/dev/token", { user_id: userOf(i), role, ttl_secs: 4 * 3600 })).access_token;
});
const prepared = Date.now();

// 2. Connect and join, CONNECT_CONCURRENCY handshakes+joins in flight at a time.
const failures = [];
await pool(SOCKETS, CONNECT_CONCURRENCY, (i) =>
  new Promise((resolve) => {
    const socket = io(url.origin, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      auth: { token: tokens[i] },
    });
    sockets.push(socket);
    socket.on("participant_joined", () => presence++);
    socket.once("connect", () => {
      socket.emit("join_room", {
        room_id: roomOf(i),
        user_id: userOf(i),
        role: i % PER_ROOM === 0 ? "DOCTOR" : "PATIENT",
        token: tokens[i],
      });
    });
    socket.once("joined_room", () => {
      joined++;
      resolve();
    });
    const fail = (what) => (err) => {
      failures.push(`${i}: ${what}: ${err?.message ?? JSON.stringify(err)}`);
      resolve();
    };
    socket.once("connect_error", fail("connect_error"));
    socket.once("error", fail("error event"));
  }),
);
const connected = Date.now();
if (joined !== SOCKETS) {
  console.error(`soak: FAILED: ${joined}/${SOCKETS} joined; first failures:\n  ${failures.slice(0, 5).join("\n  ")}`);
  for (const s of sockets) s.disconnect();
  process.exit(1);
}

// 3. Let the last presence broadcasts land, then measure.
await new Promise((r) => setTimeout(r, 1000));
const after = memory();
const stats = await (await fetch(new URL("/api/dev/stats", url))).json();

console.log(`RESULT sockets=${SOCKETS}`);
console.log(`RESULT rooms=${ROOMS}`);
console.log(`RESULT per_room=${PER_ROOM}`);
console.log(`RESULT joined=${joined}`);
console.log(`RESULT participant_joined_received=${presence}`);
console.log(`RESULT server_joins=${stats.join}`);
console.log(`RESULT server_socket_connects=${stats.socket_connect}`);
console.log(`RESULT rss_before_kb=${before.rss}`);
console.log(`RESULT rss_after_kb=${after.rss}`);
console.log(`RESULT hwm_after_kb=${after.hwm}`);
console.log(`RESULT server_threads=${after.threads}`);
console.log(`RESULT prepare_s=${((prepared - started) / 1000).toFixed(1)}`);
console.log(`RESULT connect_join_s=${((connected - prepared) / 1000).toFixed(1)}`);

// 4. Disconnect everything and leave.
for (const s of sockets) s.disconnect();
clearTimeout(watchdog);
await new Promise((r) => setTimeout(r, 500));
process.exit(0);
