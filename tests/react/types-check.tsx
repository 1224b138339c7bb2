// Type-level test of consult-client/react's .d.ts (never run, only type-checked): the hooks'
// results are typed from the package's own types, and misuse does not compile.
// Run: scripts/test-react.sh (or `cd tests && npx tsc -p react/tsconfig.json`).

import { ConsultClient } from "consult-client";
import type { ConsultError, Participant, SessionDetails, TokenInfo } from "consult-client";
import {
  ConsultProvider,
  useConsultClient,
  useConsultSession,
  useSessionDetails,
  useValidToken,
  useVideoRoom,
} from "consult-client/react";
import type { AppStateLike, ConsultSessionState, SessionDetailsState, VideoRoomState } from "consult-client/react";

declare const AppState: {
  currentState: string;
  addEventListener(type: "change" | "memoryWarning", listener: (state: string) => void): { remove(): void };
};
const appState: AppStateLike = AppState;
const client = new ConsultClient({ baseUrl: "http://127.0.0.1:8086" });

export function App() {
  return (
    <ConsultProvider client={client} appState={appState} isConnected={null}>
      <Screen sessionId="s-1" />
    </ConsultProvider>
  );
}

function Screen({ sessionId }: { sessionId: string }) {
  const same: ConsultClient = useConsultClient();
  const session: ConsultSessionState = useConsultSession();
  const info: TokenInfo | null = session.info;
  const lastError: ConsultError | null = session.lastError;
  const { token, loading } = useValidToken();
  const details: SessionDetailsState = useSessionDetails(sessionId, { intervalMs: 5000 });
  const data: SessionDetails | null = details.data;
  const room: VideoRoomState = useVideoRoom(sessionId, { roomId: data?.room_id, userId: "patient-1", role: "PATIENT" });
  const people: readonly Participant[] = room.participants;
  void room.emit("raise_hand", { up: true }, 2000).then((ack: unknown) => ack);
  // @ts-expect-error a session id is a string
  useSessionDetails(42);
  // @ts-expect-error the room's state is read-only
  room.state = "joined";
  // @ts-expect-error refreshing is a boolean
  const wrong: string = session.refreshing;
  void [same, info, lastError, token, loading, people, wrong, useSessionDetails(null)];
  return <p>{details.endReason ?? data?.status}</p>;
}

client.on("refreshStarted", (nothing: undefined) => nothing);
