// The consult-stub started by global-setup.mjs, seen from a test: its dev endpoints (mint a
// token, create and end a session, read the counters) over Node's fetch.
const STUB = process.env.CONSULT_STUB_URL;

async function call(method, path, body) {
  const response = await fetch(STUB + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A user id no other test uses. */
const uniqueUser = (prefix) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

module.exports = {
  STUB,
  uniqueUser,
  /** `POST /api/dev/token`: a refresh-shaped answer; a negative `ttl_secs` is already expired. */
  mintToken: (user_id, ttl_secs) => call("POST", "/api/dev/token", { user_id, ttl_secs }),
  createSession: (participants) => call("POST", "/api/dev/sessions", { participants }),
  patchSession: (id, status) => call("PATCH", `/api/dev/sessions/${encodeURIComponent(id)}`, { status }),
  stats: () => call("GET", "/api/dev/stats"),
};
