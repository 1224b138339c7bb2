// A React 19 web app as a user writes it, built by Vite with no configuration, the packed
// consult-client installed: StrictMode on (in development React mounts every effect twice), one
// client, four components asking for a valid token, the consultation screen, and a second
// component showing the same session. The test (../react-web.test.js) passes the stub's address,
// a session and an expired sign-in in the query, and reads the page.
import React, { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ConsultClient } from "consult-client";
import { ConsultProvider, useConsultSession, useSessionDetails, useValidToken, useVideoRoom } from "consult-client/react";

const query = new URLSearchParams(location.search);
const sessionId = query.get("session");
const userId = query.get("user");
const client = new ConsultClient({ baseUrl: query.get("stub") });
// The listeners attached to the client now (the test checks none leaks): client.on, counted.
let listening = 0;
const on = client.on.bind(client);
client.on = (event, listener) => {
  const off = on(event, listener);
  listening += 1;
  return () => {
    listening -= 1;
    off();
  };
};
window.clientListeners = () => listening;

function TokenBadge({ id }) {
  const { token } = useValidToken();
  return <li data-testid={`token-${id}`}>{token ?? "none"}</li>;
}

function ConsultationScreen() {
  const { signedIn, refreshing } = useConsultSession();
  const session = useSessionDetails(sessionId, { intervalMs: 300 });
  const room = useVideoRoom(sessionId, { roomId: session.ended ? undefined : session.data?.room_id, userId, role: "PATIENT" });
  return (
    <section>
      <p data-testid="signed-in">{String(signedIn)}</p>
      <p data-testid="refreshing">{String(refreshing)}</p>
      <p data-testid="status">{session.data?.status ?? "loading"}</p>
      <p data-testid="end">{session.endReason ?? ""}</p>
      <p data-testid="room">{room.state}</p>
      <p data-testid="participants">{room.participants.map((p) => p.user_id).join(",")}</p>
    </section>
  );
}

/**
 * The room shown from the first render (the room id comes with the page, not from a poll), so that
 * StrictMode's double mount hits it; the screen's room, once its poll tells the room id, is the
 * same one.
 */
function RoomBadge() {
  const room = useVideoRoom(sessionId, { roomId: query.get("room"), userId, role: "PATIENT" });
  return <p data-testid="room-badge">{room.state}</p>;
}

/** Another component showing the same session: it shares the screen's poller. */
function StatusLine() {
  const { data } = useSessionDetails(sessionId);
  return <p data-testid="status-line">{data?.status ?? "loading"}</p>;
}

// Signed in before the screen mounts (a poll without a session ends at once: NO_TOKEN). The
// sign-in's token is expired: the first component asking for a valid token makes the one refresh.
await client.setSession(JSON.parse(query.get("signIn")));
const root = createRoot(document.getElementById("root"));
root.render(
  <StrictMode>
    <ConsultProvider client={client}>
      <ul>
        {[1, 2, 3, 4].map((id) => (
          <TokenBadge key={id} id={id} />
        ))}
      </ul>
      <ConsultationScreen />
      <StatusLine />
      <RoomBadge />
    </ConsultProvider>
  </StrictMode>,
);
window.unmountApp = () => root.unmount();
