// Type-level test of the npm package's .d.ts (never run, only type-checked with `tsc --noEmit`):
// every public option and result type is used, the generic `on` overload types each event's
// payload, and nothing a consumer touches is `any`. "consult-client" is mapped by
// tests/package/tsconfig.json to target/pkg (the newest lib; types-check-common.ts checks the
// declarations under a common tsconfig). Run: scripts/test-package.sh (or
// `cd tests && npx tsc -p package/tsconfig.json && npx tsc -p package/tsconfig.common.json`).

import {
  ConsultClient,
  SessionPoller,
  configure,
  getSessionDetails,
  getValidToken,
  refreshAuthToken,
} from "consult-client";
import type {
  ConsultClientOptions,
  ConsultError,
  ConsultErrorCode,
  ConsultEventMap,
  ConsultEventName,
  ConsultUser,
  PollEndReason,
  PollOptions,
  RefreshResponse,
  SessionStatusName,
  StorageAdapter,
  StorageKeys,
  StorageOption,
  TokenInfo,
  Participant,
  SessionDetails,
  VideoSession,
  VideoSessionEventMap,
  VideoSessionOptions,
  VideoSessionState,
} from "consult-client";
// socket.io-client's own types (tests/node_modules): `socketIoAuth()` must fit its `auth` option.
import { io } from "socket.io-client";
import type { ManagerOptions, Socket, SocketOptions } from "socket.io-client";

// --- helpers: exact-type and no-`any` assertions ------------------------------------------------
type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}
function notAny<T>(value: T): IsAny<T> extends false ? T : never {
  return value as IsAny<T> extends false ? T : never;
}

// --- options -------------------------------------------------------------------------------------
const syncAdapter: StorageAdapter = {
  getItem: (key: string) => (key === "authToken" ? "eyJ…" : null),
  setItem: (_key: string, _value: string) => {},
  removeItem: (_key: string) => {},
};
const asyncAdapter: StorageAdapter = {
  getItem: async (_key: string) => undefined,
  setItem: async (_key: string, _value: string) => {},
  removeItem: async (_key: string) => {},
};
const storages: StorageOption[] = ["local", "session", "memory", syncAdapter, asyncAdapter];
const keys: StorageKeys = { token: "authToken", expiresAt: "tokenExpiresAt" };
const partialKeys: StorageKeys = { token: "myToken" };
const options: ConsultClientOptions = {
  baseUrl: "http://127.0.0.1:8086",
  storage: storages[0],
  storageKeys: keys,
  refreshMarginSeconds: 300,
  requestTimeoutMs: 10_000,
  crossTab: true,
  autoRefresh: true,
  refreshRetries: 3,
  now: () => Date.now(),
};
const minimal: ConsultClientOptions = { baseUrl: "http://127.0.0.1:8086" };
// @ts-expect-error baseUrl is required
const noBaseUrl: ConsultClientOptions = { storage: "memory" };
// @ts-expect-error "cookie" is not a storage
const badStorage: ConsultClientOptions = { baseUrl: "x", storage: "cookie" };
// @ts-expect-error an adapter needs removeItem
const badAdapter: StorageAdapter = { getItem: () => null, setItem: () => {} };
// @ts-expect-error now returns Unix ms
const badNow: ConsultClientOptions = { baseUrl: "x", now: () => new Date() };

// --- client and results --------------------------------------------------------------------------
const client = new ConsultClient(options);
const other = new ConsultClient({ ...minimal, storage: "memory", storageKeys: partialKeys });

const user: ConsultUser = { user_id: "patient-1", email: "p@example.test", role: "PATIENT", name: "P" };
const signIn: RefreshResponse = {
  access_token: "eyJ…",
  token_type: "bearer",
  expires_at: "2026-11-28T18:00:00Z",
  expires_in: 14_400,
  user,
};
const epochExpiry: RefreshResponse = { access_token: "eyJ…", expires_at: 1_795_890_025 };
const setDone: Promise<void> = client.setSession(signIn);
void other.setSession(epochExpiry);
// @ts-expect-error access_token is required
void client.setSession({ expires_at: "2026-11-28T18:00:00Z" });

async function results(): Promise<void> {
  await setDone;
  const token: string = notAny(await client.getValidToken());
  const forced: string = notAny(await client.refreshAuthToken());
  const response: Response = notAny(await client.fetch("/api/video/sessions/s-1", { method: "GET" }));
  const bare: Response = await client.fetch("/api/video/sessions/s-1", undefined);
  const session: SessionDetails = notAny(await client.getSessionDetails("s-1"));
  const status: SessionStatusName = session.status;
  const fields: [string, string, string[], number, string, string] = [
    session.session_id, session.room_id, session.participants, session.version,
    session.created_at, session.updated_at,
  ];
  const info = notAny(client.tokenInfo());
  assertType<Equal<typeof info, TokenInfo | null>>();
  if (info !== null) {
    const numbers: number[] = [info.expiresAt, info.expiresInMs, info.skewMs, info.refreshCount];
    const maybe: (number | null)[] = [info.issuedAt, info.lastRefreshAt];
    const t: string = info.token;
    void [numbers, maybe, t];
  }
  await client.signOut();
  client.dispose();
  client.free();
  {
    using scoped = new ConsultClient(minimal); // [Symbol.dispose] frees the wasm object
    void scoped;
  }
  void [token, forced, response, bare, status, fields];
}

// --- errors --------------------------------------------------------------------------------------
function handle(error: unknown): void {
  const e = error as ConsultError;
  const base: Error = e;
  const name: "ConsultError" = e.name;
  const code: ConsultErrorCode = e.code;
  const status: number | undefined = e.status;
  const retryable: boolean = e.retryable;
  const all: ConsultErrorCode[] = [
    "NO_TOKEN", "REFRESH_REJECTED", "NETWORK", "TIMEOUT", "HTTP", "BAD_RESPONSE", "STORAGE", "ABORTED",
  ];
  // @ts-expect-error not a code
  const wrong: ConsultErrorCode = "EXPIRED";
  void [base, name, code, status, retryable, all, wrong];
}

// --- events: the generic overload types each payload ---------------------------------------------
// If these fail with "Property … does not exist on type 'TokenInfo | ConsultError'", the class's
// own non-generic `on(event: ConsultEventName, listener: (payload: TokenInfo | ConsultError |
// null) => void)` declaration is resolved before the generic one of the merged
// `interface ConsultClient` and swallows every call: the generic declaration must be the only one
// (e.g. `skip_typescript` on the wasm-bindgen method, keeping the interface's declaration).
const offs: Array<() => void> = [
  client.on("tokenRefreshed", (info) => {
    assertType<Equal<typeof info, TokenInfo>>();
    void info.expiresAt;
  }),
  client.on("tokenChanged", (info) => {
    assertType<Equal<typeof info, TokenInfo | null>>();
    void info?.token;
  }),
  client.on("refreshFailed", (error) => {
    assertType<Equal<typeof error, ConsultError>>();
    void error.retryable;
  }),
  client.on("sessionExpired", (error) => {
    assertType<Equal<typeof error, ConsultError>>();
    void error.code;
  }),
  client.on("warning", (error) => {
    assertType<Equal<typeof error, ConsultError>>();
    void error.code;
  }),
];
// The non-generic overload: any event name, the union payload.
const someEvent: ConsultEventName = "tokenChanged";
offs.push(
  client.on(someEvent, (payload: TokenInfo | ConsultError | null) => {
    void payload;
  }),
);
function listen<K extends ConsultEventName>(name: K, cb: (payload: ConsultEventMap[K]) => void): () => void {
  return client.on(name, cb);
}
offs.push(listen("tokenRefreshed", (info: TokenInfo) => void info.refreshCount));
for (const off of offs) off();
// @ts-expect-error unknown event
client.on("tokenExpired", () => {});
// @ts-expect-error a tokenRefreshed payload is not an error
client.on("tokenRefreshed", (error: ConsultError) => void error.code);
const names: ConsultEventName[] = ["tokenRefreshed", "refreshFailed", "sessionExpired", "tokenChanged", "warning"];
assertType<Equal<ConsultEventName, keyof ConsultEventMap>>();

// --- polling -------------------------------------------------------------------------------------
const ends: PollEndReason[] = ["ended", "cancelled", "sessionExpired", "notFound", "forbidden", "stopped"];
const pollOptions: PollOptions = {
  intervalMs: 5_000,
  onUpdate: (session) => {
    assertType<Equal<typeof session, SessionDetails>>();
  },
  onError: (error) => {
    assertType<Equal<typeof error, ConsultError>>();
  },
  onEnd: (reason) => {
    assertType<Equal<typeof reason, PollEndReason>>();
  },
};
const poller: SessionPoller = client.pollSession("s-1", pollOptions);
const stopped: boolean = poller.stopped;
poller.stop();
poller.free();
client.pollSession("s-1", { onUpdate: () => {} }).stop();
// @ts-expect-error onUpdate is required
client.pollSession("s-1", { intervalMs: 1000 });
// @ts-expect-error SessionPoller has no public constructor
new SessionPoller();

// --- the video session over Socket.IO -------------------------------------------------------------
// `VideoSession` is the live session only; the details of getSessionDetails are `SessionDetails`
// (they once shared the name, and TypeScript merged them into one wrong type).
type LiveVideoSession = ReturnType<ConsultClient["connectVideoSession"]>;
assertType<Equal<LiveVideoSession, VideoSession>>();
// @ts-expect-error the live session has no details fields
void (null as unknown as VideoSession).session_id;
const videoOptions: VideoSessionOptions = {
  url: "http://127.0.0.1:8086",
  sessionId: "s-1",
  roomId: "room-s-1",
  userId: "patient-1",
  role: "PATIENT",
  namespace: "/",
  reconnection: { attempts: 5, delayMs: 1_000, maxDelayMs: 5_000 },
};
const minimalVideo: VideoSessionOptions = { sessionId: "s-1", roomId: "room-s-1", userId: "patient-1", role: "PATIENT" };
const someRetry: VideoSessionOptions = { ...minimalVideo, reconnection: { attempts: 0 } };
// @ts-expect-error roomId is required
const noRoom: VideoSessionOptions = { sessionId: "s-1", userId: "patient-1", role: "PATIENT" };
// @ts-expect-error attempts is a number
const badRetry: VideoSessionOptions = { ...minimalVideo, reconnection: { attempts: "5" } };
// @ts-expect-error exactOptionalPropertyTypes: leave url out rather than undefined
const undefinedUrl: VideoSessionOptions = { ...minimalVideo, url: undefined };

const live: LiveVideoSession = client.connectVideoSession(videoOptions);
const named: VideoSession = live; // the class name is the live session, no longer the details
void named;
void other.connectVideoSession(minimalVideo);
live.on("joined_room", (joined) => {
  assertType<Equal<typeof joined, VideoSessionEventMap["joined_room"]>>();
  const participants: Participant[] = joined.participants;
  const who: [string, string, string] = [participants[0]!.user_id, participants[0]!.role, participants[0]!.name];
  const ids: [string, string, string, string] = [joined.room_id, joined.session_id, joined.user_id, joined.role];
  void [who, ids];
});
live.on("participant_joined", (p) => {
  assertType<Equal<typeof p, { room_id: string; user_id: string; role: string; name: string }>>();
});
live.on("participant_left", (p) => {
  assertType<Equal<typeof p, VideoSessionEventMap["participant_left"]>>();
  void p.user_id;
});
live.on("session_status", (update) => {
  const status: SessionStatusName = update.status;
  const version: number = update.version;
  void [status, version, update.session_id, update.room_id, update.updated_at];
});
live.on("error", (error) => {
  assertType<Equal<typeof error, { code: string; message: string }>>();
});
live.on("state", ({ state, reason }) => {
  assertType<Equal<typeof state, VideoSessionState>>();
  assertType<Equal<typeof reason, string>>();
  if (state === "closed" && reason === "session expired") void client.signOut();
});
function listenVideo<K extends keyof VideoSessionEventMap>(event: K, cb: (payload: VideoSessionEventMap[K]) => void): void {
  live.on(event, cb);
}
listenVideo("state", (change) => void change.state);
// @ts-expect-error a state payload is not a joined_room payload
live.on("state", (joined: VideoSessionEventMap["joined_room"]) => void joined.participants);
// @ts-expect-error "disconnected" is not a state (the comparison cannot be true)
live.on("state", ({ state }) => void (state === "disconnected"));
const videoStates: VideoSessionState[] = ["connecting", "connected", "joined", "reconnecting", "refreshing", "closed"];
// @ts-expect-error not a state
const badState: VideoSessionState = "open";
const state: VideoSessionState = live.state;
assertType<Equal<typeof state, VideoSessionState>>();
// @ts-expect-error state is read-only
live.state = "closed";
async function videoCalls(): Promise<void> {
  const acked: unknown = notAny(await live.emit("echo", { n: 1 }, 5_000));
  const sent: unknown = notAny(await live.emit("leave_room", { room_id: "room-s-1" }));
  await live.emit("ping");
  // @ts-expect-error the ack timeout is a number of ms
  await live.emit("echo", {}, "5s");
  live.disconnect();
  live.free();
  void [acked, sent];
}

// socketIoAuth(): the `auth` option of the official socket.io-client, called at every connect.
const auth = client.socketIoAuth();
auth((payload) => {
  const token: string | undefined = payload.token;
  void token;
});
const sioOptions: Partial<ManagerOptions & SocketOptions> = { auth: client.socketIoAuth(), transports: ["websocket"] };
function officialClient(): Socket {
  const socket = io("http://127.0.0.1:8086", sioOptions);
  socket.on("connect_error", async (error) => {
    if (error.message === "Token expired") {
      await client.refreshAuthToken();
      socket.connect();
    }
  });
  return io("http://127.0.0.1:8086", { auth: client.socketIoAuth() });
}

// --- the seed-compatible helpers on a default client ----------------------------------------------
configure(options);
configure({ baseUrl: "http://127.0.0.1:8086", storage: "memory" });
async function seed(): Promise<void> {
  const token: string = notAny(await getValidToken());
  const forced: string = notAny(await refreshAuthToken());
  const session: SessionDetails = notAny(await getSessionDetails("s-1"));
  void [token, forced, session];
}

// --- no `any` in what a consumer reads -------------------------------------------------------------
assertType<Equal<IsAny<ReturnType<ConsultClient["getValidToken"]>>, false>>();
assertType<Equal<IsAny<ReturnType<ConsultClient["getSessionDetails"]>>, false>>();
assertType<Equal<IsAny<ReturnType<ConsultClient["tokenInfo"]>>, false>>();
assertType<Equal<IsAny<ReturnType<ConsultClient["on"]>>, false>>();
assertType<Equal<IsAny<Parameters<ConsultClient["setSession"]>[0]>, false>>();
assertType<Equal<IsAny<ConsultEventMap[ConsultEventName]>, false>>();
assertType<Equal<IsAny<ReturnType<ConsultClient["connectVideoSession"]>>, false>>();
assertType<Equal<IsAny<ReturnType<ConsultClient["socketIoAuth"]>>, false>>();
assertType<Equal<IsAny<ReturnType<LiveVideoSession["emit"]>>, false>>();
assertType<Equal<IsAny<VideoSessionEventMap[keyof VideoSessionEventMap]>, false>>();

void [syncAdapter, asyncAdapter, noBaseUrl, badStorage, badAdapter, badNow, results, handle, names, ends, stopped, seed];
void [someRetry, noRoom, badRetry, undefinedUrl, videoStates, badState, videoCalls, officialClient];
