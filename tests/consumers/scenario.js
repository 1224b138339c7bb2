// What every consumer app does with the installed package, against a consult-stub started by
// the test (`--dev`): sign in with an expired token, get a refreshed one, in a browser join the
// session's room with the built-in video session, poll the session until the test ends it.
// Reports each step; the test asserts the report. Only the public API. The import names the
// package's main entry; apps.mjs rewrites it to "consult-client/slim" for the slim apps.
import { ConsultClient } from "consult-client";

/**
 * Runs the scenario against the stub at `stub`; `report(step, value)` is called per step.
 * `video`: join the room too (browsers; Node 20 has no WebSocket).
 */
export async function run(stub, report, { video = false } = {}) {
  const post = async (path, body) => {
    const init = { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
    const response = await fetch(stub + path, init);
    return response.json();
  };
  const user = "consumer-" + Math.random().toString(36).slice(2, 10);
  const expired = await post("/api/dev/token", { user_id: user, ttl_secs: -60 });
  const client = new ConsultClient({ baseUrl: stub, storage: "memory", crossTab: false });
  await client.setSession(expired);
  const token = await client.getValidToken();
  report("refreshed", token !== expired.access_token && client.tokenInfo()?.refreshCount === 1);
  const session = await post("/api/dev/sessions", { participants: [user] });
  const ended = new Promise((resolve) => {
    client.pollSession(session.session_id, { intervalMs: 200, onUpdate: () => {}, onEnd: resolve });
  });
  if (video) report("video", await joinRoom(client, session, user));
  report("session", session.session_id);
  report("end", await ended);
  client.dispose();
}

/**
 * Joins the session's room with the built-in video session and leaves: "joined", "closed: …",
 * or "absent" where the entry has none (consult-client/slim throws a TypeError).
 */
async function joinRoom(client, session, user) {
  let room;
  try {
    room = client.connectVideoSession({ sessionId: session.session_id, roomId: session.room_id, userId: user, role: "PATIENT" });
  } catch (error) {
    if (error instanceof TypeError) return "absent";
    throw error;
  }
  try {
    return await new Promise((settle) => {
      room.on("state", ({ state, reason }) => {
        if (state === "joined") settle("joined");
        if (state === "closed") settle("closed: " + reason);
      });
    });
  } finally {
    room.disconnect();
  }
}
