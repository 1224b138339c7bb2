// A minimal consult-like video server on the OFFICIAL npm `socket.io` 4.8 server, for interop
// tests of our Socket.IO client (crates/consult-client, src/socket.rs) against the reference
// implementation rather than against socketioxide (consult-stub).
//
//   const server = await startSocketIoServer({ secret });   // the consult-stub's CONSULT_JWT_SECRET
//   connect the client to server.url ...
//   server.log            // every handshake decision and join, in order (see below)
//   await server.close();
//
// Handshake: an `io.use` middleware verifies `socket.handshake.auth.token` as the stub does for
// Socket.IO (strictly): HS256 over node:crypto HMAC with `secret`, `exp` in the future, iss
// "consult-stub", aud "consult-video". Refusals are socket.io's CONNECT_ERROR with the stub's
// messages: "Token expired", "Invalid token", "unauthorized: missing token".
//
// Events:
//   join_room {room_id, session_id?, user_id, role, token?}
//     -> joined_room {room_id, session_id, user_id, role, participants: [{user_id, role, name}]}
//        to the joiner, participant_joined {room_id, user_id, role, name} to the others;
//     -> error {code: "not_a_participant", message} when user_id is not the token's sub,
//        error {code: "bad_request", message} when the payload is not an object with strings.
//   echo (data, ack) -> ack({ echo: data })   (exercises emit-with-acknowledgement)
//   leaving (disconnect) -> participant_left {room_id, user_id, role, name} to the room.
//
// `log` entries: {type: "rejected", reason, token, at} | {type: "connected", id, token, sub, at}
// | {type: "joined", id, room_id, user_id, at} | {type: "disconnected", id, reason, at}.

import { createServer } from "node:http";
import { createHmac, timingSafeEqual } from "node:crypto";
import { Server } from "socket.io";

export const ISSUER = "consult-stub";
export const AUDIENCE = "consult-video";

function base64urlJson(part) {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

/**
 * Verifies an HS256 JWT like consult-stub's Socket.IO handshake (strict expiry).
 * @returns {{claims: object} | {error: string}} the error is the CONNECT_ERROR message
 */
export function verifyToken(token, secret, nowMs = Date.now()) {
  if (typeof token !== "string" || token === "") return { error: "unauthorized: missing token" };
  const parts = token.split(".");
  if (parts.length !== 3) return { error: "Invalid token" };
  let header;
  let claims;
  try {
    header = base64urlJson(parts[0]);
    claims = base64urlJson(parts[1]);
  } catch {
    return { error: "Invalid token" };
  }
  if (header?.alg !== "HS256" || claims === null || typeof claims !== "object") return { error: "Invalid token" };
  const expected = createHmac("sha256", secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: "Invalid token" };
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== ISSUER || !audience.includes(AUDIENCE)) return { error: "Invalid token" };
  if (typeof claims.sub !== "string" || typeof claims.exp !== "number") return { error: "Invalid token" };
  // The signature and claims are checked first: an expired forgery is "Invalid token".
  if (claims.exp * 1000 <= nowMs) return { error: "Token expired" };
  return { claims };
}

/**
 * Starts the server on 127.0.0.1 with a free port.
 * @param {{secret: string}} options the JWT secret (consult-stub's `CONSULT_JWT_SECRET`, as UTF-8)
 */
export async function startSocketIoServer({ secret }) {
  if (typeof secret !== "string" || secret === "") throw new TypeError("startSocketIoServer needs { secret }");
  const httpServer = createServer();
  const io = new Server(httpServer, { cors: { origin: true } });
  const log = [];
  const note = (entry) => log.push({ ...entry, at: Date.now() });

  io.use((socket, next) => {
    const token = socket.handshake.auth?.token;
    const verified = verifyToken(token, secret);
    if (verified.error) {
      note({ type: "rejected", reason: verified.error, token: token ?? null });
      next(new Error(verified.error));
      return;
    }
    const { sub, role, name } = verified.claims;
    socket.data.user = { user_id: sub, role: String(role ?? ""), name: String(name ?? "") };
    note({ type: "connected", id: socket.id, token, sub });
    next();
  });

  io.on("connection", (socket) => {
    const user = socket.data.user;
    const rooms = new Set();

    socket.on("join_room", async (payload) => {
      const { room_id, session_id, user_id } = payload ?? {};
      if (typeof room_id !== "string" || typeof user_id !== "string") {
        socket.emit("error", { code: "bad_request", message: "join_room needs {room_id, user_id, role}" });
        return;
      }
      if (user_id !== user.user_id) {
        socket.emit("error", { code: "not_a_participant", message: "user_id does not match the token's subject" });
        return;
      }
      const alreadyIn = rooms.has(room_id);
      socket.join(room_id);
      rooms.add(room_id);
      const participants = [];
      for (const member of await io.in(room_id).fetchSockets()) {
        const present = member.data.user;
        if (present && !participants.some((p) => p.user_id === present.user_id)) participants.push({ ...present });
      }
      note({ type: "joined", id: socket.id, room_id, user_id });
      socket.emit("joined_room", {
        room_id,
        session_id: typeof session_id === "string" ? session_id : room_id,
        user_id: user.user_id,
        role: user.role,
        participants,
      });
      if (!alreadyIn) socket.to(room_id).emit("participant_joined", { room_id, ...user });
    });

    socket.on("echo", (data, ack) => {
      if (typeof ack === "function") ack({ echo: data ?? null });
    });

    socket.on("disconnecting", (reason) => {
      for (const room_id of rooms) socket.to(room_id).emit("participant_left", { room_id, ...user });
      note({ type: "disconnected", id: socket.id, reason });
    });
  });

  await new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(0, "127.0.0.1", () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${httpServer.address().port}`;

  let closed;
  const close = () => {
    // io.close() disconnects every socket and closes the http server.
    closed ??= new Promise((resolve) => {
      io.close(() => resolve());
      httpServer.closeAllConnections?.();
    });
    return closed;
  };

  return {
    url,
    io,
    log,
    rejections: () => log.filter((e) => e.type === "rejected"),
    connections: () => log.filter((e) => e.type === "connected"),
    close,
  };
}
