// What every consumer app does with the installed package, against a consult-stub started by
// the test (`--dev`): sign in with an expired token, get a refreshed one, poll a session until
// the test ends it. Reports each step; the test asserts the report. Only the public API.
import { ConsultClient } from "consult-client";

/** Runs the scenario against the stub at `stub`; `report(step, value)` is called per step. */
export async function run(stub, report) {
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
  report("session", session.session_id);
  report("end", await ended);
  client.dispose();
}
