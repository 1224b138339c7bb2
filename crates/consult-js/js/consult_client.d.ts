// Types of consult-client's npm package (the JavaScript driver `consult_client.js` over the
// consult-core wasm exports). Hand-written; `scripts/test-package.sh` checks with tsc that they
// compile and that no `any` reaches a consumer.

// `[Symbol.dispose]` (for `using`) must type-check without `lib: ["esnext.disposable"]` too:
// declare the symbol the way that lib does (the two declarations merge).
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/** Any object with the Web Storage methods; each may return a value or a promise. */
export interface StorageAdapter {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}
export type StorageOption = "local" | "session" | "memory" | StorageAdapter;
export interface StorageKeys { token?: string; expiresAt?: string }
export interface ConsultClientOptions {
  /** Server base URL, e.g. "http://127.0.0.1:8086". */
  baseUrl: string;
  /** Default "local" ("memory" where there is no window). */
  storage?: StorageOption;
  /** Default { token: "authToken", expiresAt: "tokenExpiresAt" } (the seed's keys). */
  storageKeys?: StorageKeys;
  /** Refresh this long before expiry, at most half the token lifetime. Default 300. */
  refreshMarginSeconds?: number;
  /** Default 10000. */
  requestTimeoutMs?: number;
  /** Coordinate refreshes across tabs (Web Lock + BroadcastChannel). Default true. */
  crossTab?: boolean;
  /** Refresh in the background before expiry. Default true. */
  autoRefresh?: boolean;
  /**
   * Origins besides `baseUrl`'s that `fetch()` may send the token to, e.g.
   * `["https://media.example"]`. Any other origin is refused with `ORIGIN_NOT_ALLOWED`.
   */
  allowedOrigins?: string[];
  /** Retries after transient refresh failures. Default 3. */
  refreshRetries?: number;
  /** Clock in Unix ms (default Date.now), for tests and simulations. */
  now?: () => number;
}
export interface ConsultUser { user_id: string; email: string; role: string; name: string }
/** The refresh endpoint's answer (also what sign-in returns). */
export interface RefreshResponse {
  access_token: string;
  token_type?: string;
  expires_at?: string | number;
  expires_in?: number;
  user?: ConsultUser;
}
export interface TokenInfo {
  token: string;
  /** exp, server time, Unix ms. */
  expiresAt: number;
  /** Milliseconds left, corrected for clock skew. */
  expiresInMs: number;
  issuedAt: number | null;
  /** Server clock minus device clock, ms. */
  skewMs: number;
  refreshCount: number;
  lastRefreshAt: number | null;
}
export type ConsultErrorCode =
  | "NO_TOKEN"
  | "REFRESH_REJECTED"
  | "NETWORK"
  | "TIMEOUT"
  | "HTTP"
  | "BAD_RESPONSE"
  | "STORAGE"
  | "ABORTED"
  | "ORIGIN_NOT_ALLOWED"
  | "INTERNAL";
export interface ConsultEventMap {
  tokenRefreshed: TokenInfo;
  refreshFailed: ConsultError;
  sessionExpired: ConsultError;
  tokenChanged: TokenInfo | null;
  warning: ConsultError;
  /** This client sent a refresh request; `tokenRefreshed`, `refreshFailed` or `sessionExpired` tells how it ended. */
  refreshStarted: undefined;
}
export type ConsultEventName = keyof ConsultEventMap;
export type SessionStatusName = "scheduled" | "waiting" | "active" | "ended" | "cancelled";
/** A consultation session as GET /api/video/sessions/{id} returns it. */
export interface SessionDetails {
  session_id: string;
  room_id: string;
  status: SessionStatusName;
  participants: string[];
  version: number;
  created_at: string;
  updated_at: string;
}
export type PollEndReason = "ended" | "cancelled" | "sessionExpired" | "notFound" | "forbidden" | "stopped";
export interface PollOptions {
  /** Between the end of one poll and the start of the next. Default 5000. */
  intervalMs?: number;
  onUpdate: (session: SessionDetails) => void;
  onError?: (error: ConsultError) => void;
  onEnd?: (reason: PollEndReason) => void;
}
export type VideoSessionState = "connecting" | "connected" | "joined" | "reconnecting" | "refreshing" | "closed";
export interface VideoSessionOptions {
  /** Socket.IO server; default the client's baseUrl. */
  url?: string;
  sessionId: string;
  roomId: string;
  userId: string;
  role: string;
  /** Default "/". */
  namespace?: string;
  /** Defaults: 5 attempts in a row, 1000 ms doubling, at most 5000 ms (± 50 % jitter). */
  reconnection?: { attempts?: number; delayMs?: number; maxDelayMs?: number };
}
export interface Participant { user_id: string; role: string; name: string }
export interface VideoSessionEventMap {
  joined_room: { room_id: string; session_id: string; user_id: string; role: string; participants: Participant[] };
  participant_joined: { room_id: string; user_id: string; role: string; name: string };
  participant_left: { room_id: string; user_id: string; role: string; name: string };
  session_status: { session_id: string; room_id: string; status: SessionStatusName; version: number; updated_at: string };
  error: { code: string; message: string };
  state: { state: VideoSessionState; reason: string };
}

/** An error of the client: an `Error` with a stable `code`. */
export class ConsultError extends Error {
  private constructor();
  readonly name: "ConsultError";
  readonly code: ConsultErrorCode;
  readonly status?: number;
  readonly retryable: boolean;
}

/** Keeps a video consultation authenticated: token storage, pre-expiry refresh, authorised calls, polling, the video room. */
export class ConsultClient {
  /** Creates a client; nothing is read or sent until the first call. */
  constructor(options: ConsultClientOptions);
  /** Stores the session returned by sign-in or refresh. */
  setSession(response: RefreshResponse): Promise<void>;
  /** A token valid for at least the refresh margin (refreshing first if needed, single-flight). */
  getValidToken(): Promise<string>;
  /** Refreshes now (single-flight). */
  refreshAuthToken(): Promise<string>;
  /** `fetch(baseUrl + path, init)` with the token; one refresh and one replay after a 401. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** `GET /api/video/sessions/{id}`; a non-2xx answer rejects with code `HTTP`. */
  getSessionDetails(sessionId: string): Promise<SessionDetails>;
  /** Polls the session until it ends, the sign-in is lost, or `stop()`. */
  pollSession(sessionId: string, options: PollOptions): SessionPoller;
  /**
   * Connects to the consultation room over Socket.IO and stays joined across token changes.
   * Not in consult-client/slim (it throws a TypeError there).
   */
  connectVideoSession(options: VideoSessionOptions): VideoSession;
  /**
   * Auth for the official socket.io-client: `io(url, { auth: client.socketIoAuth() })`. It is a
   * function socket.io-client calls at every (re)connect, so the token is always current.
   */
  socketIoAuth(): (callback: (auth: { token?: string }) => void) => void;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends ConsultEventName>(event: K, listener: (payload: ConsultEventMap[K]) => void): () => void;
  /** What is known about the current token, or `null`. */
  tokenInfo(): TokenInfo | null;
  /** Signs out: server logout (best effort), storage cleared, other tabs told. */
  signOut(): Promise<void>;
  /**
   * The app is active again (React Native: `AppState` became `active`): re-checks the token and
   * refreshes at once if it is due. Pages need not call it.
   */
  wake(): void;
  /** Stops background timers and listeners (lets Node exit). Calls still work. */
  dispose(): void;
  /** Same as `dispose()`. */
  free(): void;
  [Symbol.dispose](): void;
}

/** A running session poll. */
export class SessionPoller {
  private constructor();
  /** Stops polling and aborts the request in flight; `onEnd("stopped")` follows. */
  stop(): void;
  /** Whether polling has ended. */
  readonly stopped: boolean;
  /** Same as `stop()`. */
  free(): void;
  [Symbol.dispose](): void;
}

/** A live video session (Socket.IO room). */
export interface VideoSession {
  on<K extends keyof VideoSessionEventMap>(event: K, listener: (payload: VideoSessionEventMap[K]) => void): void;
  /** Any other event the server sends. */
  on(event: string, listener: (payload: unknown) => void): void;
  /** Sends an event; with ackTimeoutMs, resolves with the server's acknowledgement. */
  emit(event: string, data?: unknown, ackTimeoutMs?: number): Promise<unknown>;
  /** Leaves the room and closes the connection (no reconnect). */
  disconnect(): void;
  /** `connecting`, `connected`, `joined`, `reconnecting`, `refreshing` or `closed`. */
  readonly state: VideoSessionState;
  /** Same as `disconnect()`. */
  free(): void;
  [Symbol.dispose](): void;
}

/** Joins a base URL and a path with exactly one slash (absolute URLs pass as they are). */
export function joinUrl(base: string, path: string): string;
/** Sets up (or replaces) the default client used by the seed-compatible helpers below. */
export function configure(options: ConsultClientOptions): void;
/** The seed's `getValidToken()`, on the default client. */
export function getValidToken(): Promise<string>;
/** The seed's `refreshAuthToken()`, on the default client. */
export function refreshAuthToken(): Promise<string>;
/** The seed's `getSessionDetails(id)`, on the default client. */
export function getSessionDetails(sessionId: string): Promise<SessionDetails>;
