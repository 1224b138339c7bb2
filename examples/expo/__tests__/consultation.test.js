// consult-client/react in React Native's tools: Jest with the react-native preset (jest-expo),
// React Native Testing Library, AsyncStorage's Jest mock, against a real consult-stub. The screen
// is the example app's VideoConsultationScreen; the client is the app's (AsyncStorage, seed keys).
import { AppState, Button, Text } from "react-native";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react-native";
import AsyncStorage from "@react-native-async-storage/async-storage";
import { ConsultClient } from "consult-client";
import { ConsultProvider, useConsultSession, useValidToken, useVideoRoom } from "consult-client/react";
import { createConsultClient } from "../src/consult";
import { VideoConsultationScreen } from "../src/VideoConsultationScreen";
import { STUB, createSession, mintToken, patchSession, stats, uniqueUser } from "../jest/stub-api";

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const POLL_MS = 200;

let client;
beforeEach(async () => {
  await AsyncStorage.clear();
  AppState.addEventListener.mockClear();
});
afterEach(() => {
  client?.dispose();
  client = undefined;
});

/** The seed's storage as the seed's app left it: the token and its expiry under its keys. */
async function storeAsTheSeedDid(answer) {
  await AsyncStorage.setItem("authToken", answer.access_token);
  await AsyncStorage.setItem("tokenExpiresAt", answer.expires_at);
}

function TokenBadge({ id }) {
  const { token } = useValidToken();
  return <Text testID={`token-${id}`}>{token ?? "none"}</Text>;
}

test("an expired stored token: one refresh for the screen and five other components, stored under the seed's keys", async () => {
  const user = uniqueUser("patient");
  const expired = await mintToken(user, -60);
  await storeAsTheSeedDid(expired);
  const session = await createSession([user]);
  const before = (await stats()).refresh_ok;
  client = createConsultClient(STUB);

  render(
    <ConsultProvider client={client} appState={AppState}>
      {[1, 2, 3, 4, 5].map((id) => (
        <TokenBadge key={id} id={id} />
      ))}
      <VideoConsultationScreen sessionId={session.session_id} userId={user} intervalMs={POLL_MS} />
    </ConsultProvider>,
  );

  await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("scheduled"), { timeout: 10000 });
  await waitFor(() => expect(screen.getByTestId("room")).toHaveTextContent("joined"), { timeout: 10000 });
  await waitFor(() => expect(screen.getByTestId("token-5")).not.toHaveTextContent("none"));
  const tokens = [1, 2, 3, 4, 5].map((id) => screen.getByTestId(`token-${id}`).props.children);
  expect(new Set(tokens).size).toBe(1);
  expect(tokens[0]).not.toBe(expired.access_token);
  expect((await stats()).refresh_ok - before).toBe(1);
  expect(await AsyncStorage.getItem("authToken")).toBe(tokens[0]);
  expect(await AsyncStorage.getItem("tokenExpiresAt")).not.toBe(expired.expires_at);
});

test("the screen shows the session, joins its room, follows it to `ended` and leaves the room", async () => {
  const user = uniqueUser("patient");
  client = createConsultClient(STUB);
  await client.setSession(await mintToken(user));
  const session = await createSession([user]);

  render(
    <ConsultProvider client={client} appState={AppState}>
      <VideoConsultationScreen sessionId={session.session_id} userId={user} intervalMs={POLL_MS} />
    </ConsultProvider>,
  );
  await waitFor(() => expect(screen.getByTestId("room")).toHaveTextContent("joined"), { timeout: 10000 });
  expect(screen.getByTestId(`participant-${user}`)).toHaveTextContent(`${user} (PATIENT)`);

  await act(() => patchSession(session.session_id, "active"));
  await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("active"), { timeout: 10000 });
  await act(() => patchSession(session.session_id, "ended"));
  await waitFor(() => expect(screen.getByTestId("ended")).toHaveTextContent("Consultation over: ended"), { timeout: 10000 });
  expect(screen.getByTestId("status")).toHaveTextContent("ended");
  // The session is over: the screen has left the room (nothing connected: idle), polling has stopped.
  await waitFor(() => expect(screen.getByTestId("room")).toHaveTextContent("idle"));
  const polls = (await stats()).session_get;
  await act(() => sleep(POLL_MS * 4));
  expect((await stats()).session_get).toBe(polls);
});

test("unmounting the screen stops polling and closes the room (another participant sees it leave)", async () => {
  const patient = uniqueUser("patient");
  const doctor = uniqueUser("doctor");
  const session = await createSession([patient, doctor]);
  client = createConsultClient(STUB);
  await client.setSession(await mintToken(patient));
  const doctorRoom = await doctorInRoom(session, doctor);
  const left = doctorRoom.left(patient);

  try {
    const view = render(
      <ConsultProvider client={client} appState={AppState}>
        <VideoConsultationScreen sessionId={session.session_id} userId={patient} intervalMs={POLL_MS} />
      </ConsultProvider>,
    );
    await waitFor(() => expect(screen.getByTestId(`participant-${doctor}`)).toBeTruthy(), { timeout: 10000 });
    expect(screen.getByTestId("room")).toHaveTextContent("joined");

    view.unmount();
    await expect(Promise.race([left, sleep(5000).then(() => "timeout")])).resolves.toMatchObject({ user_id: patient });
    const polls = (await stats()).session_get;
    await sleep(POLL_MS * 5);
    expect((await stats()).session_get).toBe(polls);
  } finally {
    doctorRoom.close();
  }
});

test("useVideoRoom's emit sends in the room: leave_room, and the other participant sees it", async () => {
  const patient = uniqueUser("patient");
  const doctor = uniqueUser("doctor");
  const session = await createSession([patient, doctor]);
  client = createConsultClient(STUB);
  await client.setSession(await mintToken(patient));
  const doctorRoom = await doctorInRoom(session, doctor);
  const left = doctorRoom.left(patient);
  function LeaveButton() {
    const room = useVideoRoom(session.session_id, { roomId: session.room_id, userId: patient, role: "PATIENT" });
    return (
      <>
        <Text testID="room">{room.state}</Text>
        <Button title="Leave the room" onPress={() => room.emit("leave_room", { room_id: session.room_id })} />
      </>
    );
  }
  try {
    render(
      <ConsultProvider client={client}>
        <LeaveButton />
      </ConsultProvider>,
    );
    await waitFor(() => expect(screen.getByTestId("room")).toHaveTextContent("joined"), { timeout: 10000 });
    fireEvent.press(screen.getByText("Leave the room"));
    await expect(Promise.race([left, sleep(5000).then(() => "timeout")])).resolves.toMatchObject({ user_id: patient });
  } finally {
    doctorRoom.close();
  }
});

/** Another participant (a doctor) joined to the session's room through the plain client API. */
async function doctorInRoom(session, doctor) {
  const doctorClient = new ConsultClient({ baseUrl: STUB, storage: "memory" });
  await doctorClient.setSession(await mintToken(doctor));
  const room = doctorClient.connectVideoSession({ sessionId: session.session_id, roomId: session.room_id, userId: doctor, role: "DOCTOR" });
  const departures = [];
  room.on("participant_left", (p) => departures.push(p));
  await new Promise((done) => room.on("state", ({ state }) => state === "joined" && done()));
  return {
    /** Resolves with the participant_left of `userId` (seen already, or to come). */
    left: (userId) =>
      new Promise((done) => {
        const seen = () => departures.find((p) => p.user_id === userId);
        if (seen()) return done(seen());
        room.on("participant_left", () => seen() && done(seen()));
      }),
    close: () => {
      room.disconnect();
      doctorClient.dispose();
    },
  };
}

/** The AppState listener the provider registered (React Native's AppState is the preset's mock). */
function appStateListener() {
  const call = AppState.addEventListener.mock.calls.find(([type]) => type === "change");
  if (!call) throw new Error("the provider did not listen to AppState");
  return call[1];
}

test("AppState: back in the foreground, a token that fell due in the background is refreshed at once", async () => {
  const user = uniqueUser("patient");
  // A 4-second token is due 2 s after it was minted (the margin is at most half its lifetime).
  // No auto-refresh: only a wake-up (or a call) refreshes it.
  client = new ConsultClient({ baseUrl: STUB, storage: "memory", autoRefresh: false });
  const first = await mintToken(user, 4);
  await client.setSession(first);
  function Session() {
    const { token, refreshing } = useConsultSession();
    return (
      <>
        <Text testID="token">{token ?? "none"}</Text>
        <Text testID="refreshing">{String(refreshing)}</Text>
      </>
    );
  }
  render(
    <ConsultProvider client={client} appState={AppState}>
      <Session />
    </ConsultProvider>,
  );
  await waitFor(() => expect(screen.getByTestId("token")).toHaveTextContent(first.access_token));
  const onChange = appStateListener();

  let started = 0;
  client.on("refreshStarted", () => (started += 1));
  act(() => onChange("background"));
  const before = (await stats()).refresh_ok;
  await act(() => sleep(2500));
  expect((await stats()).refresh_ok).toBe(before); // due, but nothing asked for it

  act(() => onChange("active"));
  await waitFor(
    () => {
      expect(screen.getByTestId("token")).not.toHaveTextContent(first.access_token);
      expect(screen.getByTestId("token")).not.toHaveTextContent("none");
      expect(screen.getByTestId("refreshing")).toHaveTextContent("false");
    },
    { timeout: 5000 },
  );
  expect((await stats()).refresh_ok - before).toBe(1);
  expect(started).toBe(1); // the event behind useConsultSession().refreshing
});

test("network status: back online, a token that fell due offline is refreshed at once", async () => {
  const user = uniqueUser("patient");
  client = new ConsultClient({ baseUrl: STUB, storage: "memory", autoRefresh: false });
  const first = await mintToken(user, 4); // due 2 s after it was minted
  await client.setSession(first);
  function Token() {
    return <Text testID="token">{useValidToken().token ?? "none"}</Text>;
  }
  const tree = (isConnected) => (
    <ConsultProvider client={client} isConnected={isConnected}>
      <Token />
    </ConsultProvider>
  );
  const view = render(tree(false));
  await waitFor(() => expect(screen.getByTestId("token")).toHaveTextContent(first.access_token));
  const before = (await stats()).refresh_ok;
  await act(() => sleep(2500));
  expect((await stats()).refresh_ok).toBe(before);

  view.rerender(tree(true)); // e.g. NetInfo's isConnected
  await waitFor(() => expect(screen.getByTestId("token")).not.toHaveTextContent(first.access_token), { timeout: 5000 });
  expect(screen.getByTestId("token")).not.toHaveTextContent("none");
  expect((await stats()).refresh_ok - before).toBe(1);
});

test("AppState: polling pauses in the background and polls at once back in the foreground", async () => {
  const user = uniqueUser("patient");
  client = createConsultClient(STUB);
  await client.setSession(await mintToken(user));
  const session = await createSession([user]);
  render(
    <ConsultProvider client={client} appState={AppState}>
      <VideoConsultationScreen sessionId={session.session_id} userId={user} intervalMs={POLL_MS} />
    </ConsultProvider>,
  );
  await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("scheduled"), { timeout: 10000 });
  await waitFor(() => expect(screen.getByTestId("room")).toHaveTextContent("joined"), { timeout: 10000 });
  const onChange = appStateListener();

  act(() => onChange("background"));
  await waitFor(() => expect(screen.getByTestId("paused")).toBeTruthy());
  await act(() => sleep(POLL_MS)); // a request in flight when it paused was aborted; none follows
  const polls = (await stats()).session_get;
  await act(() => sleep(POLL_MS * 5));
  expect((await stats()).session_get).toBe(polls);

  await act(() => patchSession(session.session_id, "active"));
  act(() => onChange("active"));
  await waitFor(() => expect(screen.getByTestId("status")).toHaveTextContent("active"), { timeout: 5000 });
  expect(screen.queryByTestId("paused")).toBeNull();
});
