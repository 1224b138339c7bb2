// consult-client/react: React hooks over one ConsultClient, for React on the web and React Native.
// The hooks subscribe to the client's events and call its public methods, through stores read
// with useSyncExternalStore (one store per client, per polled session, per room: however many
// components use a session, it is polled once; StrictMode's second mount reuses the first's
// work). No decision is made here: when to refresh, poll, back off or give up is the client's.
//
// Nothing here imports the client or react-native: the application passes its client (and, in
// React Native, its AppState), so this entry adds only itself to a bundle.
//
//   <ConsultProvider client={client} appState={AppState}>
//     <VideoConsultationScreen sessionId="s-1" />
//   </ConsultProvider>

import { createContext, createElement, useContext, useEffect, useMemo, useRef, useSyncExternalStore } from "react";
import { Observable, keyed } from "./shared.js";
import { RoomStore } from "./room_store.js";
import { SessionStore } from "./session_store.js";
import { TokenStore } from "./token_store.js";

const ClientContext = createContext(null);

/** The stores of each client: its token state, its polled sessions, its rooms, the foreground. */
const storesByClient = new WeakMap();

function storesOf(client) {
  return keyed(storesByClient, client, () => ({
    token: new TokenStore(client),
    sessions: new Map(),
    rooms: new Map(),
    foreground: new Observable({ active: true }),
  }));
}

/** The snapshot of a hook given no session (or not enough to join a room): nothing runs. */
const NO_SESSION = Object.freeze({ data: null, error: null, ended: false, endReason: null, paused: false });
const NO_ROOM = Object.freeze({ state: "idle", reason: null, participants: [], sessionStatus: null, error: null });
const nothing = () => () => {};
const noRoom = () => Promise.reject(new Error("useVideoRoom: the room is not open"));

/**
 * Makes `client` available to the hooks below it. In React Native, pass `appState` (AppState
 * from react-native): when the app becomes active the client re-checks its token (`wake()`), and
 * session polling pauses while the app is in the background. Pass `isConnected` (e.g. NetInfo's)
 * to wake the client when the network comes back. The provider never disposes the client.
 */
export function ConsultProvider({ client, appState, isConnected, children }) {
  if (typeof client?.getValidToken !== "function") throw new TypeError("ConsultProvider needs a ConsultClient as `client`");
  const foreground = storesOf(client).foreground;

  useEffect(() => {
    if (typeof appState?.addEventListener !== "function") return undefined;
    const follow = (state) => {
      const active = state !== "background";
      if (foreground.get().active !== active) foreground.update({ active });
      if (state === "active") client.wake();
    };
    if (typeof appState.currentState === "string") follow(appState.currentState);
    const subscription = appState.addEventListener("change", follow);
    return () => {
      if (typeof subscription?.remove === "function") subscription.remove();
      else appState.removeEventListener?.("change", follow);
      if (!foreground.get().active) foreground.update({ active: true });
    };
  }, [client, appState, foreground]);

  const wasConnected = useRef(isConnected);
  useEffect(() => {
    if (isConnected === true && wasConnected.current === false) client.wake();
    wasConnected.current = isConnected;
  }, [client, isConnected]);

  return createElement(ClientContext.Provider, { value: client }, children);
}

/** The ConsultClient of the nearest ConsultProvider. */
export function useConsultClient() {
  const client = useContext(ClientContext);
  if (client === null) throw new Error("consult-client/react: wrap the app in <ConsultProvider client={client}>");
  return client;
}

/**
 * The sign-in and token state: `{ loaded, signedIn, token, info, expiresAt, refreshing, lastError }`,
 * re-rendered on every change the client reports. The first component to use it loads the stored
 * session (a token that is due is refreshed then).
 */
export function useConsultSession() {
  const store = storesOf(useConsultClient()).token;
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/**
 * A valid token (`getValidToken()`, asked again whenever the token changes): `{ token, error,
 * loading }`. However many components use it, the client makes one refresh.
 */
export function useValidToken() {
  const { loaded, token, lastError } = useConsultSession();
  return useMemo(() => ({ token, error: lastError, loading: !loaded }), [token, lastError, loaded]);
}

/**
 * The session polled every `intervalMs` (default 5000, from the end of one poll to the next):
 * `{ data, error, ended, endReason, paused }`. One poller per session, shared by every component
 * that shows it (the first one's `intervalMs` applies), stopped when the last one unmounts.
 * `sessionId` null or undefined: nothing is polled.
 */
export function useSessionDetails(sessionId, options) {
  const client = useConsultClient();
  const stores = storesOf(client);
  const id = sessionId === null || sessionId === undefined ? null : String(sessionId);
  const intervalMs = options?.intervalMs;
  const store = id === null ? null : keyed(stores.sessions, id, () => new SessionStore(client, id, intervalMs, stores.foreground));
  const subscribe = store ? store.subscribe : nothing;
  const getSnapshot = store ? store.getSnapshot : () => NO_SESSION;
  return useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
}

/**
 * The session's video room (Socket.IO), joined while a component uses it and left when the last
 * one unmounts: `{ state, reason, participants, sessionStatus, error, emit }`. `options` are
 * connectVideoSession's (`roomId`, `userId`, `role`, optional `url`, `namespace`,
 * `reconnection`); until `sessionId`, `roomId`, `userId` and `role` are all strings, nothing
 * connects (`state: "idle"`).
 */
export function useVideoRoom(sessionId, options) {
  const client = useConsultClient();
  const stores = storesOf(client);
  const { roomId, userId, role, url, namespace, reconnection } = options ?? {};
  const ready = [sessionId, roomId, userId, role].every((value) => typeof value === "string");
  const key = ready ? JSON.stringify([sessionId, roomId, userId, role, url ?? null, namespace ?? null]) : null;
  const store =
    key === null
      ? null
      : keyed(stores.rooms, key, () => new RoomStore(client, { sessionId, roomId, userId, role, url, namespace, reconnection }));
  const subscribe = store ? store.subscribe : nothing;
  const getSnapshot = store ? store.getSnapshot : () => NO_ROOM;
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);
  const emit = store ? store.emit : noRoom;
  return useMemo(() => ({ ...snapshot, emit }), [snapshot, emit]);
}
