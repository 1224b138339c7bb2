// consult-client for JavaScript: keeps a video consultation authenticated for hours.
//
// The I/O (fetch, timers, Web Locks, BroadcastChannel, storage, events, the poll loop, the
// WebSocket) is this plain JavaScript module; every decision (token times, clock skew, when to
// refresh, backoff, how to read a status, the poll schedule, the Socket.IO codec and connection
// state machine) is a synchronous call into consult-core compiled to wasm (`./consult_core.js`,
// exported by `crates/consult-client/src/js/`). This split keeps the package small: the same
// orchestration written in Rust (the crate's Rust API, used by the Leptos demo) costs about
// 70 KB gz of wasm, this module about 5 KB (BENCHMARKS.md, "Package size").

import {
  jwtPayload,
  tokenExpiresAt,
  tokenIssuedAt,
  isDue,
  delayUntilDue,
  isExpired,
  estimateSkew,
  serverTimeFromExpiresIn,
  parseHttpDate,
  retryAfterMs,
  classifyStatus,
  sessionStatus,
  backoffDelay,
  PollSchedule,
  SocketMachine,
  websocketUrl,
} from "./consult_core.js";

const REFRESH_PATH = "/api/video/auth/refresh-token";
const LOGOUT_PATH = "/api/video/auth/logout";
const SESSIONS_PATH = "/api/video/sessions/";
/** Longest wait for the cross-tab refresh lock. */
const LOCK_TIMEOUT_MS = 10000;
/** Longest sleep of the auto-refresh timer: hidden tabs throttle timers, so re-check often. */
const MAX_TIMER_MS = 30000;
const EVENTS = ["tokenRefreshed", "refreshFailed", "sessionExpired", "tokenChanged", "warning"];

// classifyStatus
const SUCCESS = 0;
const TRANSIENT = 1;
const UNAUTHORIZED = 2;
// sessionStatus
const ENDED = 3;
const CANCELLED = 4;
// PollSchedule actions (>= 0: sleep that long)
const FETCH_NOW = -1;
const PAUSED = -2;
const AWAIT_RESULT = -3;
const STOPPED_TERMINAL = -4;
const STOPPED_STOPPED = -6;

/** Retry-After of a failed refresh attempt, kept off the public error object. */
const RETRY_AFTER = Symbol("retryAfter");

// ---------------------------------------------------------------------------------------------
// Errors

/** Every failure: an Error with a stable `code`, the HTTP `status` and `retryable`. */
export class ConsultError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = "ConsultError";
    this.code = code;
    this.status = status;
    this.retryable =
      code === "HTTP"
        ? classifyStatus(status) === TRANSIENT
        : code === "NETWORK" || code === "TIMEOUT" || code === "STORAGE";
  }
}

const messageOf = (value) =>
  typeof value === "string" ? value : typeof value?.message === "string" ? value.message : "unknown error";

const storageError = (what, cause) => new ConsultError("STORAGE", what + ": " + messageOf(cause));

const httpError = (response) => new ConsultError("HTTP", "HTTP " + response.status, response.status);

// ---------------------------------------------------------------------------------------------
// Small environment helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(ms, 0), 2147483647)));

const pageHidden = () => typeof document !== "undefined" && document.hidden === true;

const hasWindow = () => typeof window !== "undefined" && window === globalThis;

/** Joins a base URL and a path with exactly one slash (absolute URLs pass as they are). */
export function joinUrl(base, path) {
  if (path.startsWith("http://") || path.startsWith("https://")) return path;
  return base.replace(/\/+$/, "") + "/" + path.replace(/^\/+/, "");
}

/** Percent-encodes a path segment (RFC 3986 unreserved characters pass). */
const encodeSegment = (segment) =>
  encodeURIComponent(String(segment)).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );

/** `YYYY-MM-DDTHH:MM:SSZ` of a Unix time in ms (what is stored under `tokenExpiresAt`). */
function formatUtc(ms) {
  const text = new Date(ms).toISOString();
  return text.length === 24 ? text.slice(0, 19) + "Z" : text;
}

/** An `expires_at` as text: a string as is, a number (epoch seconds) in decimal. */
function expiresAtText(value) {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value) && value >= 0 && value < 1e12) {
    return String(Math.trunc(value));
  }
  return undefined;
}

/** Reads a token's times: the JWT's `exp`/`iat`, or `expiresAt` when the token has no `exp`. */
function readToken(token, expiresAt) {
  const unusable = (what) => new ConsultError("NO_TOKEN", "stored token is unusable: " + what);
  const payload = typeof token === "string" ? jwtPayload(token) : undefined;
  if (payload === undefined) throw unusable("not a JWT");
  let claims;
  try {
    claims = JSON.parse(payload);
  } catch {
    throw unusable("payload is not JSON");
  }
  const number = (v) => (typeof v === "number" ? v : undefined);
  const exp = number(claims?.exp);
  const iat = number(claims?.iat);
  const expiresAtMs = tokenExpiresAt(exp, iat, expiresAt ?? undefined);
  if (expiresAtMs === undefined) throw unusable("no expiry");
  return { token, exp: expiresAtMs, iat: tokenIssuedAt(exp, iat) };
}

/** The server's clock when it answered, from the token's expiry and `expires_in` (seconds). */
const serverNowFromExpiresIn = (info, expiresIn) =>
  serverTimeFromExpiresIn(info.exp, typeof expiresIn === "number" ? expiresIn : undefined);

// ---------------------------------------------------------------------------------------------
// HTTP: one exchange with a timeout and cancellation

/**
 * `fetch(url, init)` with extra headers, a timeout and optional cancel signals. Network failure
 * → NETWORK, timeout → TIMEOUT, cancel → ABORTED; any status is returned as is.
 */
async function send(url, init, headers, timeoutMs, cancel) {
  const controller = new AbortController();
  let request;
  try {
    request = new Request(url, { ...init, signal: controller.signal });
    for (const [name, value] of headers) request.headers.set(name, value);
  } catch (e) {
    throw new ConsultError("BAD_RESPONSE", "bad request: " + messageOf(e));
  }
  const signals = [cancel, init?.signal].filter(Boolean);
  const onAbort = () => controller.abort();
  for (const signal of signals) signal.addEventListener("abort", onAbort);
  let timedOut = false;
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timeoutMs)
      : undefined;
  try {
    if (signals.some((signal) => signal.aborted)) {
      throw new ConsultError("ABORTED", "request cancelled");
    }
    return await fetch(request);
  } catch (e) {
    if (e instanceof ConsultError) throw e;
    if (timedOut) throw new ConsultError("TIMEOUT", "no answer within the request timeout");
    if (e?.name === "AbortError") throw new ConsultError("ABORTED", "request cancelled");
    throw new ConsultError("NETWORK", "request failed: " + messageOf(e));
  } finally {
    clearTimeout(timer);
    for (const signal of signals) signal.removeEventListener("abort", onAbort);
  }
}

/** The body as JSON, or BAD_RESPONSE. */
async function json(response) {
  try {
    return await response.json();
  } catch {
    throw new ConsultError("BAD_RESPONSE", "response body is not JSON", response.status);
  }
}

// ---------------------------------------------------------------------------------------------
// Cross-tab lock (Web Locks), always with a timeout: without the lock in time (or without the
// API) the caller goes on unlocked — the server's reuse window answers a duplicate refresh.

/** Resolves to the release function, or null (no lock: go on without it). */
async function acquireLock(name, timeoutMs) {
  const locks = globalThis.navigator?.locks;
  if (!locks || typeof locks.request !== "function") return null;
  let release;
  let granted;
  const held = new Promise((resolve) => (release = resolve));
  const acquired = new Promise((resolve) => (granted = resolve));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const pending = locks.request(name, { signal: controller.signal }, () => {
      granted();
      return held;
    });
    await Promise.race([acquired, pending]);
    return release;
  } catch {
    release();
    return null;
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Storage: localStorage, sessionStorage, memory, or an adapter (sync or async). A storage that
// throws on write is replaced by memory (and the caller warns).

function memoryStore() {
  const entries = new Map();
  return {
    getItem: (key) => entries.get(key) ?? null,
    setItem: (key, value) => void entries.set(key, String(value)),
    removeItem: (key) => void entries.delete(key),
  };
}

class TokenStorage {
  constructor(kind) {
    this.backend = null;
    /** Whether other tabs see this storage (localStorage): cross-tab coordination applies. */
    this.shared = false;
    this.warning = null;
    if (kind === "memory") {
      this.backend = memoryStore();
    } else if (typeof kind === "object") {
      this.backend = kind;
    } else if (!hasWindow()) {
      this.backend = memoryStore();
    } else {
      try {
        const web = kind === "local" ? window.localStorage : window.sessionStorage;
        this.backend = web ?? memoryStore();
        this.shared = web != null && kind === "local";
      } catch (e) {
        this.backend = memoryStore();
        this.warning = storageError("storage unavailable, using memory", e);
      }
    }
  }

  /** Calls `backend[method](...)`, awaiting a promise if it returns one. */
  async #call(method, what, ...args) {
    const backend = this.backend;
    if (typeof backend[method] !== "function") {
      throw new ConsultError("STORAGE", "storage adapter lacks a method");
    }
    try {
      return await backend[method](...args);
    } catch (e) {
      throw storageError(what, e);
    }
  }

  /** The value of `key` (null when absent); throws a STORAGE error. */
  async get(key) {
    const value = await this.#call("getItem", "storage read failed", key);
    return typeof value === "string" ? value : null;
  }

  /** Writes `key`; on failure switches to memory (which then holds the value) and returns the error. */
  async set(key, value) {
    try {
      await this.#call("setItem", "storage write failed, using memory", key, value);
      return null;
    } catch (error) {
      this.backend = memoryStore();
      this.shared = false;
      this.backend.setItem(key, value);
      return error;
    }
  }

  /** Removes `key` (best effort). */
  async remove(key) {
    try {
      await this.#call("removeItem", "storage remove failed", key);
    } catch {
      // A failing removal is ignored.
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Other tabs: BroadcastChannel for new tokens and sign-outs, `storage` events as a fallback.

class TabSync {
  constructor(tokenKey, adopt) {
    this.channel = null;
    try {
      if (typeof BroadcastChannel === "function") this.channel = new BroadcastChannel("consult:" + tokenKey);
    } catch {
      this.channel = null;
    }
    const text = (v) => (typeof v === "string" ? v : null);
    if (this.channel) {
      this.channel.onmessage = (event) => {
        const data = event.data;
        if (data?.type === "token") adopt(text(data.token), text(data.expiresAt));
        else if (data?.type === "signout") adopt(null, null);
      };
    }
    this.onStorage = (event) => {
      if (event.key === tokenKey) adopt(event.newValue, null);
    };
    if (hasWindow()) window.addEventListener("storage", this.onStorage);
  }

  announceToken(token, expiresAt) {
    this.#post({ type: "token", token, expiresAt });
  }

  announceSignOut() {
    this.#post({ type: "signout" });
  }

  #post(message) {
    try {
      this.channel?.postMessage(message);
    } catch {
      // A closed channel: the storage event still reaches the other tabs.
    }
  }

  close() {
    if (this.channel) {
      this.channel.onmessage = null;
      this.channel.close();
      this.channel = null;
    }
    if (hasWindow()) window.removeEventListener("storage", this.onStorage);
  }
}

// ---------------------------------------------------------------------------------------------
// Options

function parseOptions(options) {
  if (typeof options?.baseUrl !== "string") throw new TypeError("options.baseUrl must be a string");
  const storage = options.storage ?? "local";
  const validStorage =
    storage === "local" ||
    storage === "session" ||
    storage === "memory" ||
    (typeof storage === "object" && storage !== null);
  if (!validStorage) {
    throw new TypeError('options.storage must be "local", "session", "memory" or a storage adapter');
  }
  const keys = typeof options.storageKeys === "object" && options.storageKeys !== null ? options.storageKeys : {};
  const clamp = (value, fallback, low, high) =>
    typeof value === "number" && !Number.isNaN(value) ? Math.trunc(Math.min(Math.max(value, low), high)) : fallback;
  const boolean = (value) => (typeof value === "boolean" ? value : true);
  const now = options.now;
  return {
    baseUrl: options.baseUrl,
    storage,
    tokenKey: typeof keys.token === "string" ? keys.token : "authToken",
    expiresKey: typeof keys.expiresAt === "string" ? keys.expiresAt : "tokenExpiresAt",
    marginSeconds: typeof options.refreshMarginSeconds === "number" ? options.refreshMarginSeconds : 300,
    timeoutMs: clamp(options.requestTimeoutMs, 10000, 0, 2147483647),
    retries: clamp(options.refreshRetries, 3, 0, 20),
    crossTab: boolean(options.crossTab),
    autoRefresh: boolean(options.autoRefresh),
    now:
      typeof now === "function"
        ? () => {
            const value = now();
            return typeof value === "number" && Number.isFinite(value) ? Math.trunc(value) : Date.now();
          }
        : Date.now,
  };
}

// ---------------------------------------------------------------------------------------------
// The client

export class ConsultClient {
  #o;
  #storage;
  #tabs = null;
  #state = { loaded: false, current: null, skew: 0, refreshCount: 0, lastRefreshAt: null, expired: false };
  #flight = null;
  #listeners = [];
  #startupWarning;
  #generation = 0;
  #autoTimer;
  #autoWake = null;
  #wakeTargets = [];

  /** Creates a client; nothing is read or sent until the first call. */
  constructor(options) {
    this.#o = parseOptions(options);
    this.#storage = new TokenStorage(this.#o.storage);
    this.#startupWarning = this.#storage.warning;
    if (this.#o.crossTab && this.#storage.shared) {
      this.#tabs = new TabSync(this.#o.tokenKey, (token, expiresAt) => this.#adopt(token, expiresAt));
    }
    this.#listenForWakeUps();
  }

  /** Stores the session returned by sign-in (or a refresh done elsewhere). */
  async setSession(response) {
    const token = response?.access_token;
    if (typeof token !== "string") {
      throw new ConsultError("BAD_RESPONSE", "setSession needs an object with access_token");
    }
    let info;
    try {
      info = readToken(token, expiresAtText(response.expires_at));
    } catch (e) {
      throw new ConsultError("BAD_RESPONSE", e.message);
    }
    const received = this.#o.now();
    const state = this.#state;
    state.loaded = true;
    state.expired = false;
    // Only `expires_in` tells the server's "now" here: a login token's `iat` may be old.
    state.skew = estimateSkew(received, serverNowFromExpiresIn(info, response.expires_in), undefined);
    await this.#store(info);
    this.#announce(info);
    this.#emit("tokenChanged", this.tokenInfo());
    this.#startAutoRefresh();
  }

  /** A token valid for at least the refresh margin, refreshing first if needed (single-flight). */
  getValidToken() {
    return this.#validToken();
  }

  /** Refreshes now, whatever the expiry (still single-flight). */
  async refreshAuthToken() {
    await this.#load();
    this.#checkNotExpired();
    return this.#refreshSingleFlight(this.#state.current?.token ?? null);
  }

  /** `fetch(baseUrl + path, init)` with the token; one refresh and one replay after a 401. */
  fetch(path, init) {
    return this.#authorized(String(path), typeof init === "object" && init !== null ? init : undefined, []);
  }

  /** `GET /api/video/sessions/{id}`; a non-2xx answer rejects with code HTTP. */
  async getSessionDetails(sessionId) {
    const response = await this.#authorized(SESSIONS_PATH + encodeSegment(sessionId), undefined, []);
    if (!response.ok) throw httpError(response);
    return json(response);
  }

  /** Polls the session until it ends, the sign-in is lost, or `stop()`. */
  pollSession(sessionId, options) {
    if (typeof options?.onUpdate !== "function") throw new TypeError("options.onUpdate must be a function");
    const interval =
      typeof options.intervalMs === "number" && !Number.isNaN(options.intervalMs)
        ? Math.min(Math.max(options.intervalMs, 100), 86400000)
        : 5000;
    const request = (path, headers, signal) => this.#authorized(path, undefined, headers, signal);
    return new SessionPoller(request, SESSIONS_PATH + encodeSegment(sessionId), interval, options);
  }

  /**
   * Connects to the consultation room over Socket.IO and stays joined across token changes,
   * reconnects and server restarts, until `disconnect()` or the session ends.
   */
  connectVideoSession(options) {
    return new VideoSession(this, parseSessionOptions(options, this.#o.baseUrl), this.#o.now);
  }

  /**
   * Auth for the official socket.io-client: `io(url, { auth: client.socketIoAuth() })`. It is a
   * function socket.io-client calls at every (re)connect, so the token is always current.
   */
  socketIoAuth() {
    return (callback) => {
      this.getValidToken().then(
        (token) => callback({ token }),
        () => callback({}),
      );
    };
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on(event, listener) {
    if (!EVENTS.includes(event)) throw new TypeError("unknown event name");
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    const entry = [event, listener];
    this.#listeners.push(entry);
    if (event === "warning" && this.#startupWarning) {
      const warning = this.#startupWarning;
      this.#startupWarning = null;
      this.#emit("warning", warning);
    }
    return () => {
      this.#listeners = this.#listeners.filter((e) => e !== entry);
    };
  }

  /** What is known about the current token, or null. */
  tokenInfo() {
    const state = this.#state;
    const current = state.current;
    if (!current) return null;
    return {
      token: current.token,
      expiresAt: current.exp,
      expiresInMs: current.exp - (this.#o.now() + state.skew),
      issuedAt: current.iat ?? null,
      skewMs: state.skew,
      refreshCount: state.refreshCount,
      lastRefreshAt: state.lastRefreshAt,
    };
  }

  /** Server logout (best effort), storage cleared, other tabs told. */
  async signOut() {
    await this.#load();
    const token = this.#state.current?.token;
    await this.#forget();
    this.#tabs?.announceSignOut();
    this.#emit("tokenChanged", null);
    if (token) {
      try {
        await send(this.#url(LOGOUT_PATH), { method: "POST" }, [["Authorization", "Bearer " + token]], this.#o.timeoutMs);
      } catch {
        // Best effort: the token expires anyway.
      }
    }
  }

  /** Stops background work (auto-refresh timer, tab and page listeners). Calls still work. */
  dispose() {
    this.#retireAutoRefresh();
    this.#tabs?.close();
    this.#tabs = null;
    for (const [target, name, listener] of this.#wakeTargets) target.removeEventListener(name, listener);
    this.#wakeTargets = [];
  }

  /** Same as dispose (kept for the wasm-bindgen API's `free()`). */
  free() {
    this.dispose();
  }

  [Symbol.dispose ?? Symbol.for("Symbol.dispose")]() {
    this.dispose();
  }

  // --- internals ---------------------------------------------------------------------------

  #url(path) {
    return joinUrl(this.#o.baseUrl, path);
  }

  #emit(event, payload) {
    for (const [name, listener] of this.#listeners.slice()) {
      if (name !== event) continue;
      try {
        listener(payload);
      } catch {
        // A throwing listener must not break the client.
      }
    }
  }

  #isDue(info) {
    return isDue(this.#o.marginSeconds, info.exp, info.iat, this.#o.now(), this.#state.skew);
  }

  #isExpired(info) {
    return isExpired(info.exp, this.#o.now(), this.#state.skew);
  }

  #checkNotExpired() {
    if (this.#state.expired) {
      throw new ConsultError("REFRESH_REJECTED", "the session has expired; sign in again");
    }
  }

  /** Reads storage once (first use), so a page reload picks up the stored session. */
  async #load() {
    if (this.#state.loaded) return;
    const stored = await this.#readStored();
    if (!this.#state.loaded) {
      this.#state.loaded = true;
      this.#state.current = stored;
    }
    if (this.#state.current) this.#startAutoRefresh();
  }

  async #readStored() {
    let token;
    try {
      token = await this.#storage.get(this.#o.tokenKey);
    } catch (warning) {
      this.#emit("warning", warning);
      return null;
    }
    if (token === null) return null;
    let expiresAt = null;
    try {
      expiresAt = await this.#storage.get(this.#o.expiresKey);
    } catch {
      // The token's own `exp` usually suffices.
    }
    try {
      return readToken(token, expiresAt);
    } catch {
      return null;
    }
  }

  async #store(info) {
    this.#state.current = info;
    const pairs = [
      [this.#o.tokenKey, info.token],
      [this.#o.expiresKey, formatUtc(info.exp)],
    ];
    for (const [key, value] of pairs) {
      const warning = await this.#storage.set(key, value);
      if (warning) this.#emit("warning", warning);
    }
  }

  #announce(info) {
    this.#tabs?.announceToken(info.token, formatUtc(info.exp));
  }

  async #forget() {
    this.#state.current = null;
    this.#state.loaded = true;
    this.#retireAutoRefresh();
    await this.#storage.remove(this.#o.tokenKey);
    await this.#storage.remove(this.#o.expiresKey);
  }

  async #validToken() {
    await this.#load();
    this.#checkNotExpired();
    const current = this.#state.current;
    if (!current) throw new ConsultError("NO_TOKEN", "no session: sign in first");
    if (!this.#isDue(current)) return current.token;
    try {
      return await this.#refreshSingleFlight(current.token);
    } catch (error) {
      if (error.code === "REFRESH_REJECTED") throw error;
      // Still usable? Then the caller goes on; the auto-refresh keeps trying.
      const now = this.#state.current;
      if (now && !this.#isExpired(now)) return now.token;
      throw error;
    }
  }

  /**
   * One refresh at a time in this page: join the running one or start one. `stale` is the
   * token the caller found wanting: a replacement that is not due is the answer.
   */
  #refreshSingleFlight(stale) {
    if (!this.#flight) {
      this.#flight = this.#refreshWithRetries(stale).finally(() => {
        this.#flight = null;
      });
    }
    return this.#flight;
  }

  async #refreshWithRetries(stale) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#refreshOnce(stale);
      } catch (error) {
        if (error.code === "REFRESH_REJECTED") {
          await this.#endSession(error);
          throw error;
        }
        this.#emit("refreshFailed", error);
        if (!error.retryable || attempt >= this.#o.retries) throw error;
        await sleep(backoffDelay(500, 8000, attempt, Math.random(), error[RETRY_AFTER]));
      }
    }
  }

  /** One refresh attempt, under the cross-tab lock when the storage is shared. */
  async #refreshOnce(stale) {
    const shared = this.#o.crossTab && this.#storage.shared;
    const release = shared ? await acquireLock("consult-refresh:" + this.#o.tokenKey, LOCK_TIMEOUT_MS) : null;
    try {
      // Another tab (or an adopted broadcast) may have refreshed while we waited.
      const stored = shared ? await this.#readStored() : null;
      for (const candidate of [stored, this.#state.current]) {
        if (candidate && candidate.token !== stale && !this.#isDue(candidate)) {
          const changed = this.#state.current?.token !== candidate.token;
          this.#state.current = candidate;
          if (changed) this.#emit("tokenChanged", this.tokenInfo());
          return candidate.token;
        }
      }
      const token = this.#state.current?.token;
      if (!token) throw new ConsultError("NO_TOKEN", "no session: sign in first");
      const response = await send(
        this.#url(REFRESH_PATH),
        { method: "POST" },
        [["Authorization", "Bearer " + token]],
        this.#o.timeoutMs,
      );
      const outcome = classifyStatus(response.status);
      if (outcome === SUCCESS) return await this.#acceptRefresh(response);
      if (outcome === UNAUTHORIZED) {
        throw new ConsultError("REFRESH_REJECTED", "the server refused to refresh the token", response.status);
      }
      const error = httpError(response);
      const retryAfter = response.headers.get("retry-after");
      if (retryAfter !== null) error[RETRY_AFTER] = retryAfterMs(retryAfter);
      throw error;
    } finally {
      release?.();
    }
  }

  async #acceptRefresh(response) {
    const received = this.#o.now();
    const body = await json(response);
    const bad = () =>
      new ConsultError("BAD_RESPONSE", "refresh answer lacks a usable access_token", response.status);
    const token = body?.access_token;
    if (typeof token !== "string") throw bad();
    let info;
    try {
      info = readToken(token, expiresAtText(body.expires_at));
    } catch {
      throw bad();
    }
    const dateHeader = response.headers.get("date");
    const date = dateHeader === null ? undefined : parseHttpDate(dateHeader);
    const state = this.#state;
    const serverNow = serverNowFromExpiresIn(info, body.expires_in) ?? info.iat;
    state.skew = estimateSkew(received, serverNow, date);
    state.refreshCount += 1;
    state.lastRefreshAt = received;
    await this.#store(info);
    this.#announce(info);
    const snapshot = this.tokenInfo();
    this.#emit("tokenRefreshed", snapshot);
    this.#emit("tokenChanged", snapshot);
    return token;
  }

  async #endSession(error) {
    const already = this.#state.expired;
    this.#state.expired = true;
    await this.#forget();
    this.#state.expired = true;
    if (!already) {
      this.#tabs?.announceSignOut();
      this.#emit("sessionExpired", error);
      this.#emit("tokenChanged", null);
    }
  }

  /** Another tab announced a token (or a sign-out: null). */
  #adopt(token, expiresAt) {
    const current = this.#state.current;
    if (token === null || token === undefined) {
      if (current) {
        this.#state.current = null;
        this.#retireAutoRefresh();
        this.#emit("tokenChanged", null);
      }
      return;
    }
    if (token === current?.token) return;
    let info;
    try {
      info = readToken(token, expiresAt);
    } catch {
      return;
    }
    if (!current || info.exp >= current.exp) {
      const state = this.#state;
      state.current = info;
      state.loaded = true;
      state.expired = false;
      this.#emit("tokenChanged", this.tokenInfo());
      this.#startAutoRefresh();
    }
  }

  /**
   * Keeps the token fresh in the background: sleeps until it is due (in ≤ 30 s steps, since
   * hidden tabs throttle timers), then refreshes. One loop per client: a generation counter
   * retires older loops.
   */
  #startAutoRefresh() {
    if (!this.#o.autoRefresh) return;
    const generation = this.#retireAutoRefresh();
    this.#autoRefreshLoop(generation).catch(() => {});
  }

  async #autoRefreshLoop(generation) {
    let failures = 0;
    while (this.#generation === generation) {
      const current = this.#state.current;
      if (!current) return;
      const delay = delayUntilDue(this.#o.marginSeconds, current.exp, current.iat, this.#o.now(), this.#state.skew);
      if (delay > 0) {
        await this.#autoSleep(Math.min(delay, MAX_TIMER_MS));
        continue;
      }
      try {
        await this.#refreshSingleFlight(current.token);
        failures = 0;
      } catch (error) {
        if (error.code === "REFRESH_REJECTED" || error.code === "NO_TOKEN") return;
        await this.#autoSleep(backoffDelay(1000, 60000, failures++, Math.random(), undefined));
      }
    }
  }

  /** A sleep that `#retireAutoRefresh` cuts short (and whose timer it clears). */
  #autoSleep(ms) {
    return new Promise((resolve) => {
      this.#autoWake = resolve;
      this.#autoTimer = setTimeout(resolve, ms);
    });
  }

  /** Ends the running auto-refresh loop (if any) and returns the next generation number. */
  #retireAutoRefresh() {
    this.#generation += 1;
    clearTimeout(this.#autoTimer);
    const wake = this.#autoWake;
    this.#autoWake = null;
    wake?.();
    return this.#generation;
  }

  /** Visible again, online, focus: timers may have slept through the refresh time. */
  #listenForWakeUps() {
    if (!hasWindow()) return;
    const onWake = () => {
      if (!pageHidden()) this.#validToken().catch(() => {});
    };
    const targets = [
      [window, "online"],
      [window, "focus"],
    ];
    if (typeof document !== "undefined") targets.push([document, "visibilitychange"]);
    for (const [target, name] of targets) {
      target.addEventListener(name, onWake);
      this.#wakeTargets.push([target, name, onWake]);
    }
  }

  /** An authorised request; after a 401, one refresh (unless already replaced) and one replay. */
  async #authorized(path, init, extraHeaders, cancel) {
    const url = this.#url(path);
    const token = await this.#validToken();
    const response = await this.#sendWith(url, init, extraHeaders, token, cancel);
    if (response.status !== 401) return response;
    const current = this.#state.current?.token;
    const replacement = current && current !== token ? current : await this.#refreshSingleFlight(token);
    return this.#sendWith(url, init, extraHeaders, replacement, cancel);
  }

  #sendWith(url, init, extraHeaders, token, cancel) {
    // A copy, so the caller's init object is never modified and can be replayed.
    const headers = [...extraHeaders, ["Authorization", "Bearer " + token]];
    return send(url, Object.assign({}, init), headers, this.#o.timeoutMs, cancel);
  }
}

// ---------------------------------------------------------------------------------------------
// Session polling, driven by consult-core's PollSchedule

export class SessionPoller {
  #schedule;
  #ended = false;
  #controller = null;
  #timer;
  #wake = null;
  #notified = false;
  #pending = null;
  #end = null;
  #etag = null;
  #onVisibility;

  constructor(request, path, intervalMs, options) {
    this.#schedule = new PollSchedule(intervalMs);
    if (pageHidden()) this.#schedule.onVisibility(true);
    this.#onVisibility = () => {
      if (this.#ended) return;
      const action = this.#schedule.onVisibility(pageHidden());
      if (action === FETCH_NOW || action <= STOPPED_TERMINAL) this.#notify(action);
    };
    if (typeof document !== "undefined") document.addEventListener("visibilitychange", this.#onVisibility);
    this.#run(request, path, options).catch(() => {});
  }

  /** Whether polling has ended. */
  get stopped() {
    return this.#ended || this.#schedule.stopped;
  }

  /** Same as stop() (kept from the wasm-bindgen API). */
  free() {
    this.stop();
  }

  [Symbol.dispose ?? Symbol.for("Symbol.dispose")]() {
    this.stop();
  }

  /** Stops polling and aborts the request in flight; onEnd("stopped") follows. */
  stop() {
    if (this.#ended) return;
    const action = this.#schedule.stop();
    this.#controller?.abort();
    this.#controller = null;
    this.#notify(action);
  }

  #notify(action) {
    this.#pending = action;
    const wake = this.#wake;
    this.#wake = null;
    if (wake) wake();
    else this.#notified = true;
  }

  /** Sleeps `ms` (forever when negative) or until notified; true when notified. */
  #sleep(ms) {
    if (this.#notified) {
      this.#notified = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      this.#wake = () => {
        clearTimeout(this.#timer);
        resolve(true);
      };
      if (ms >= 0) {
        this.#timer = setTimeout(() => {
          this.#wake = null;
          resolve(false);
        }, Math.min(ms, 2147483647));
      }
    });
  }

  #takePending() {
    const pending = this.#pending;
    this.#pending = null;
    return pending;
  }

  async #run(request, path, options) {
    let action = this.#schedule.start();
    for (;;) {
      if (action === FETCH_NOW) {
        action = await this.#pollOnce(request, path, options);
      } else if (action >= 0) {
        const woken = await this.#sleep(action);
        const pending = this.#takePending();
        action = woken && pending !== null ? pending : this.#schedule.onTimer();
      } else if (action === PAUSED || action === AWAIT_RESULT) {
        await this.#sleep(-1);
        action = this.#takePending() ?? this.#schedule.onTimer();
      } else {
        const end =
          this.#end ??
          (action === STOPPED_STOPPED ? "stopped" : action === STOPPED_TERMINAL ? "ended" : "sessionExpired");
        this.#ended = true;
        this.#schedule.free();
        if (typeof document !== "undefined") document.removeEventListener("visibilitychange", this.#onVisibility);
        try {
          options.onEnd?.(end);
        } catch {
          // A throwing callback must not break anything else.
        }
        return;
      }
    }
  }

  async #pollOnce(request, path, options) {
    const controller = new AbortController();
    this.#controller = controller;
    const headers = this.#etag ? [["If-None-Match", this.#etag]] : [];
    let response;
    try {
      response = await request(path, headers, controller.signal);
    } catch (error) {
      return this.#failure(error, undefined, options);
    } finally {
      this.#controller = null;
    }
    const status = response.status;
    if (status === 304) return this.#schedule.onNotModified(Math.random());
    if (classifyStatus(status) === SUCCESS) {
      let session;
      try {
        session = await json(response);
      } catch (error) {
        return this.#failure(error, undefined, options);
      }
      this.#etag = response.headers.get("etag");
      const code = sessionStatus(typeof session?.status === "string" ? session.status : "");
      if (code === ENDED) this.#end = "ended";
      else if (code === CANCELLED) this.#end = "cancelled";
      try {
        options.onUpdate(session);
      } catch {
        // Keep polling.
      }
      return this.#schedule.onUpdated(code, Math.random());
    }
    if (status === 404 || status === 403) {
      this.#end = status === 404 ? "notFound" : "forbidden";
      return this.#schedule.onFatal();
    }
    const retryAfter = response.headers.get("retry-after");
    return this.#failure(httpError(response), retryAfter === null ? undefined : retryAfterMs(retryAfter), options);
  }

  #failure(error, retryAfter, options) {
    if (error?.code === "ABORTED") return this.#schedule.onFatal();
    const fatal = error?.code === "REFRESH_REJECTED" || error?.code === "NO_TOKEN";
    if (fatal) this.#end = "sessionExpired";
    try {
      options.onError?.(error);
    } catch {
      // Keep polling.
    }
    return fatal ? this.#schedule.onFatal() : this.#schedule.onTransient(retryAfter, Math.random());
  }
}

// ---------------------------------------------------------------------------------------------
// The seed's helpers, on a default client

let defaultClient = null;

/** Sets up (or replaces) the default client used by the helpers below. */
export function configure(options) {
  const client = new ConsultClient(options);
  defaultClient?.dispose();
  defaultClient = client;
}

const onDefault = (call) =>
  defaultClient
    ? call(defaultClient)
    : Promise.reject(new ConsultError("NO_TOKEN", "call configure({ baseUrl }) first"));

export const getValidToken = () => onDefault((client) => client.getValidToken());
export const refreshAuthToken = () => onDefault((client) => client.refreshAuthToken());
export const getSessionDetails = (sessionId) => onDefault((client) => client.getSessionDetails(sessionId));

// ---------------------------------------------------------------------------------------------
// The video session over Socket.IO: a WebSocket driver for consult-core's connection machine.
// The token is read with getValidToken() for every CONNECT and every join_room; an auth refusal
// forces one refresh (the client's single flight, shared with polling and fetch); the room is
// joined again after every reconnect.

const clampNumber = (value, fallback, low, high) =>
  typeof value === "number" && !Number.isNaN(value) ? Math.trunc(Math.min(Math.max(value, low), high)) : fallback;

function parseSessionOptions(options, baseUrl) {
  const text = (key) => {
    const value = options?.[key];
    if (typeof value !== "string") {
      throw new TypeError("connectVideoSession needs string sessionId, roomId, userId and role");
    }
    return value;
  };
  const retry = typeof options?.reconnection === "object" && options.reconnection !== null ? options.reconnection : {};
  return {
    url: typeof options?.url === "string" ? options.url : baseUrl,
    sessionId: text("sessionId"),
    roomId: text("roomId"),
    userId: text("userId"),
    role: text("role"),
    namespace: typeof options.namespace === "string" ? options.namespace : "/",
    attempts: clampNumber(retry.attempts, 5, 0, 1000),
    delayMs: clampNumber(retry.delayMs, 1000, 0, 3600000),
    maxDelayMs: clampNumber(retry.maxDelayMs, 5000, 0, 3600000),
  };
}

/** The first part of `text` up to the first newline, and the rest. */
const splitLine = (text) => {
  const at = text.indexOf("\n");
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
};

class VideoSession {
  #client;
  #options;
  #now;
  #machine;
  #socket = null;
  #timer;
  #listeners = [];
  #acks = new Map();
  #nextAck = 0;
  #joined = false;

  constructor(client, options, now) {
    this.#client = client;
    this.#options = options;
    this.#now = now;
    this.#machine = new SocketMachine(options.namespace, options.attempts, options.delayMs, options.maxDelayMs);
    this.#machine.start(now());
    // Let the caller attach listeners before anything is reported.
    setTimeout(() => this.#pump(), 0);
  }

  /**
   * Listens to `joined_room`, `participant_joined`, `participant_left`, `session_status`,
   * `error` (the server's `{code, message}`), `state` (`{state, reason}`) or any other event.
   */
  on(event, listener) {
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    this.#listeners.push([String(event), listener]);
  }

  /** Sends an event; with `ackTimeoutMs`, resolves with the server's acknowledgement. */
  emit(event, data, ackTimeoutMs) {
    let args = "";
    if (data !== undefined) {
      try {
        args = JSON.stringify(data);
      } catch {
        args = undefined;
      }
      if (typeof args !== "string") {
        return Promise.reject(new ConsultError("BAD_RESPONSE", "event data is not JSON-serialisable"));
      }
    }
    const wantsAck = typeof ackTimeoutMs === "number" && ackTimeoutMs >= 0;
    const id = wantsAck ? ++this.#nextAck : undefined;
    const sent = this.#machine.emit(String(event), args, id);
    this.#pump();
    if (!sent) return Promise.reject(new ConsultError("NETWORK", "not connected"));
    if (!wantsAck) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const settle = (done, value) => {
        clearTimeout(timer);
        this.#acks.delete(id);
        done(value);
      };
      const timer = setTimeout(
        () => settle(reject, new ConsultError("TIMEOUT", "no acknowledgement in time")),
        Math.min(ackTimeoutMs, 2147483647),
      );
      this.#acks.set(id, { resolve: (value) => settle(resolve, value), reject: (error) => settle(reject, error) });
    });
  }

  /** Leaves the room and closes the connection (no reconnect). */
  disconnect() {
    this.#machine.disconnect();
    this.#pump();
  }

  /** Same as disconnect() (kept from the wasm-bindgen API). */
  free() {
    this.disconnect();
  }

  [Symbol.dispose ?? Symbol.for("Symbol.dispose")]() {
    this.disconnect();
  }

  /** `connecting`, `connected`, `joined`, `reconnecting`, `refreshing` or `closed`. */
  get state() {
    const state = this.#machine.state;
    return state === "connected" && this.#joined ? "joined" : state;
  }

  // --- internals ---------------------------------------------------------------------------

  /** Feeds the machine an input (with the time), then carries out what it asks. */
  #feed(input) {
    input(this.#machine, this.#now());
    this.#pump();
  }

  /** Carries out every pending action of the machine, then re-arms its timer. */
  #pump() {
    for (let action = this.#machine.next(); action !== undefined; action = this.#machine.next()) {
      const rest = action.slice(1);
      switch (action[0]) {
        case "o":
          this.#open();
          break;
        case "x":
          this.#close();
          break;
        case "w":
          try {
            this.#socket?.send(rest);
          } catch {
            // A socket closing under us: its close event reports the loss.
          }
          break;
        case "t":
        case "T":
          this.#fetchToken(action[0] === "T");
          break;
        case "s":
          this.#onState(...splitLine(rest));
          break;
        case "c":
          this.#join();
          break;
        case "e":
          this.#onEvent(rest);
          break;
        case "a":
          this.#onAck(...splitLine(rest));
          break;
        default:
          // "p": an unreadable frame, ignored.
          break;
      }
    }
    clearTimeout(this.#timer);
    const at = this.#machine.nextTimeout();
    if (at !== undefined) {
      const delay = Math.min(Math.max(at - this.#now(), 0), 2147483647);
      this.#timer = setTimeout(() => this.#feed((m, now) => m.onTimeout(now, Math.random())), delay);
    }
  }

  #open() {
    let socket;
    try {
      socket = new WebSocket(websocketUrl(this.#options.url));
    } catch {
      setTimeout(() => this.#feed((m, now) => m.onTransportClosed(now, Math.random())), 0);
      return;
    }
    socket.onopen = () => this.#feed((m, now) => m.onTransportOpen(now));
    socket.onmessage = (event) => {
      const frame = typeof event.data === "string" ? event.data : "";
      this.#feed((m, now) => m.onFrame(frame, now));
    };
    socket.onclose = () => {
      if (this.#socket === socket) this.#socket = null;
      this.#feed((m, now) => m.onTransportClosed(now, Math.random()));
    };
    this.#socket = socket;
  }

  /** Closes the WebSocket on the machine's request: its events are no longer wanted. */
  #close() {
    const socket = this.#socket;
    this.#socket = null;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
    try {
      socket.close();
    } catch {
      // Already closed.
    }
  }

  #fetchToken(forceRefresh) {
    const token = forceRefresh ? this.#client.refreshAuthToken() : this.#client.getValidToken();
    token.then(
      (value) => this.#feed((m, now) => m.onToken(value, false, now, Math.random())),
      (error) => {
        const rejected = error?.code === "REFRESH_REJECTED" || error?.code === "NO_TOKEN";
        this.#feed((m, now) => m.onToken(undefined, rejected, now, Math.random()));
      },
    );
  }

  /** join_room with the current token: after a refresh, never the one the socket connected with. */
  #join() {
    this.#client.getValidToken().then(
      (token) => {
        const o = this.#options;
        const args = JSON.stringify({ room_id: o.roomId, session_id: o.sessionId, user_id: o.userId, role: o.role, token });
        this.#machine.emit("join_room", args, undefined);
        this.#pump();
      },
      () => {
        // No token: the next CONNECT attempt handles the sign-in state.
      },
    );
  }

  #onState(state, reason) {
    if (state !== "connected") this.#joined = false;
    if (state === "closed") {
      for (const ack of [...this.#acks.values()]) ack.reject(new ConsultError("ABORTED", "connection closed"));
      clearTimeout(this.#timer);
    }
    this.#emit("state", { state, reason });
  }

  #onEvent(json) {
    let array;
    try {
      array = JSON.parse(json);
    } catch {
      return;
    }
    if (!Array.isArray(array) || typeof array[0] !== "string") return;
    const [name, payload] = array;
    if (name === "joined_room" && !this.#joined) {
      this.#joined = true;
      this.#emit("state", { state: "joined", reason: "joined_room" });
    }
    this.#emit(name, payload);
  }

  #onAck(id, json) {
    let value;
    try {
      value = json ? JSON.parse(json)?.[0] : undefined;
    } catch {
      value = undefined;
    }
    this.#acks.get(Number(id))?.resolve(value);
  }

  #emit(event, payload) {
    for (const [name, listener] of this.#listeners.slice()) {
      if (name !== event) continue;
      try {
        listener(payload);
      } catch {
        // A throwing listener must not break the session.
      }
    }
  }
}
