// The client: a driver of consult-core's token session machine (`TokenMachine`). It feeds the
// machine what happened — the application's calls, storage, lock and HTTP results, the other
// tabs' messages, wake-ups, its one timer — and performs what the machine asks. Every decision
// (when to refresh, whether an answer is trusted, backoff, the lock protocol, what ends a
// sign-in, what each caller gets) is the machine's.

import { TokenMachine, authorisedReplays, sessionAnswerError } from "./consult_core.js";
import * as In from "./session_in.js";
import * as Op from "./session_op.js";
import { ConsultError, machineError } from "./errors.js";
import { Listeners, callSafely } from "./events.js";
import { encodeSegment, hasWindow, joinUrl, pageHidden, timerDelay } from "./env.js";
import { send } from "./http.js";
import { requestLock } from "./lock.js";
import { SessionPoller } from "./poller.js";
import { TokenStorage } from "./storage.js";
import { pump } from "./pump.js";
import { TabSync } from "./tabs.js";
import { VideoSession } from "./video_session.js";
import { AUTHORIZATION, BEARER, DATE, EXPIRES_KEY, LOCK_PREFIX, LOGOUT_PATH, POST, REFRESH_PATH, RETRY_AFTER, SESSIONS_PATH, TOKEN_KEY } from "./wire.js";

const EVENTS = ["tokenRefreshed", "refreshFailed", "sessionExpired", "tokenChanged", "warning", "refreshStarted"];

/** The constructor's options with their defaults; a TypeError for what cannot be used. */
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
  const allowed = options.allowedOrigins ?? [];
  if (!Array.isArray(allowed) || !allowed.every((origin) => typeof origin === "string")) {
    throw new TypeError("options.allowedOrigins must be an array of strings");
  }
  const keys = typeof options.storageKeys === "object" && options.storageKeys !== null ? options.storageKeys : {};
  const boolean = (value) => (typeof value === "boolean" ? value : true);
  const number = (value) => (typeof value === "number" ? value : undefined);
  const now = options.now;
  return {
    baseUrl: options.baseUrl,
    storage,
    allowedOrigins: allowed,
    tokenKey: typeof keys.token === "string" ? keys.token : TOKEN_KEY,
    expiresKey: typeof keys.expiresAt === "string" ? keys.expiresAt : EXPIRES_KEY,
    // Numbers go to the machine as given: consult-core applies the defaults and bounds.
    marginSeconds: number(options.refreshMarginSeconds),
    timeoutMs: number(options.requestTimeoutMs),
    retries: number(options.refreshRetries),
    crossTab: boolean(options.crossTab),
    autoRefresh: boolean(options.autoRefresh),
    now:
      typeof now === "function"
        ? () => {
            const value = now();
            return typeof value === "number" && Number.isFinite(value) ? value : Date.now();
          }
        : Date.now,
  };
}

/** The monotonic clock every deadline of the machine runs on (wall clocks step). */
const monoNow =
  typeof performance === "object" && performance !== null && typeof performance.now === "function"
    ? () => performance.now()
    : Date.now;

/** An `expires_at` as text: a string as is, a number (epoch seconds) in decimal. */
const expiresAtText = (value) =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;

export class ConsultClient {
  #o;
  #storage;
  #machine;
  #tabs = null;
  #listeners = new Listeners();
  #startupWarning = null;
  /** Calls waiting for the machine: id → [resolve, reject]. */
  #calls = new Map();
  #nextCall = 1;
  /** Lock operations: id → release. */
  #locks = new Map();
  /** Refresh requests: id → AbortController. */
  #requests = new Map();
  /** Inputs fed while performing actions (a listener calling the client) wait their turn. */
  #pump = pump(
    ([kind, id, text, extra, number, replaces]) => {
      const machine = this.#machine;
      if (kind === In.PeerToken) machine.setReplaces(replaces);
      machine.feed(this.#o.now(), monoNow(), kind, id, text, extra, number);
      for (let op; (op = machine.pollAction()) !== Op.None; ) this.#perform(op, machine);
    },
    () => {
      // The machine's lease on both clocks (NaN, no lease, fails every comparison), and its
      // timer re-armed.
      const machine = this.#machine;
      this.#leaseUntil = machine.freshUntil(0);
      this.#leaseUntilMono = machine.freshUntil(1);
      this.#leased = machine.token() ?? "";
      clearTimeout(this.#timer);
      const at = machine.pollTimeout();
      if (!Number.isNaN(at)) {
        this.#timer = setTimeout(() => this.#feed(In.Timeout, 0), timerDelay(at - monoNow()));
      }
    },
  );
  #timer;
  #timeoutMs;
  #wakeTargets = [];
  /** The machine's lease: until this device time and #leaseUntilMono (performance.now()),
   * getValidToken() answers #leased at once. */
  #leaseUntil = NaN;
  #leaseUntilMono = NaN;
  #leased = "";

  /** Creates a client; nothing is read or sent until the first call. */
  constructor(options) {
    const o = (this.#o = parseOptions(options));
    const storage = (this.#storage = new TokenStorage(o.storage, o.tokenKey, o.expiresKey));
    if (storage.failure) this.#startupWarning = machineError("STORAGE", undefined, storage.failure);
    const crossTab = o.crossTab && storage.shared;
    const seed = Math.random() * 2 ** 52;
    const machine = (this.#machine = new TokenMachine(o.marginSeconds, o.timeoutMs, o.retries, crossTab, o.autoRefresh, storage.persistent, seed));
    for (const origin of [o.baseUrl, ...o.allowedOrigins]) machine.allowOrigin(origin);
    /** The request timeout in force (ms; 0: none), as the machine settled it. */
    this.#timeoutMs = machine.requestTimeoutMs();
    if (crossTab) {
      this.#tabs = new TabSync(
        o.tokenKey,
        (token, expiresAt, replaces) => this.#feed(In.PeerToken, 0, token, expiresAt, undefined, replaces),
        (token) => this.#feed(In.PeerSignedOut, 0, token),
      );
    }
    this.#listenForWakeUps();
  }

  /** Stores the session returned by sign-in (or a refresh done elsewhere). */
  async setSession(response) {
    const token = response?.access_token;
    if (typeof token !== "string") {
      throw new ConsultError("BAD_RESPONSE", "setSession needs an object with access_token");
    }
    const expiresIn = typeof response.expires_in === "number" ? response.expires_in : undefined;
    await this.#call(In.SetSession, token, expiresAtText(response.expires_at), expiresIn);
  }

  /** A token valid for at least the refresh margin, refreshing first if needed (single-flight). */
  getValidToken() {
    // The hot path: within the machine's lease, its answer is known without asking.
    if (this.#o.now() < this.#leaseUntil && monoNow() < this.#leaseUntilMono) return Promise.resolve(this.#leased);
    return this.#call(In.GetToken);
  }

  /** Refreshes now, whatever the expiry (still single-flight). */
  refreshAuthToken() {
    return this.#call(In.ForceRefresh);
  }

  /** `fetch(baseUrl + path, init)` with the token; one refresh and one replay after a 401. */
  fetch(path, init) {
    return this.#authorized(String(path), typeof init === "object" && init !== null ? init : undefined, []);
  }

  /** `GET /api/video/sessions/{id}`; what the answer means (a session, HTTP, BAD_RESPONSE) is core's. */
  async getSessionDetails(sessionId) {
    const response = await this.#authorized(SESSIONS_PATH + encodeSegment(sessionId), undefined, []);
    const body = await response.text().catch(() => undefined);
    const code = sessionAnswerError(response.status, body);
    if (code !== undefined) throw machineError(code, response.status);
    return JSON.parse(body);
  }

  /** Polls the session until it ends, the sign-in is lost, or `stop()`. */
  pollSession(sessionId, options) {
    if (typeof options?.onUpdate !== "function") throw new TypeError("options.onUpdate must be a function");
    const interval = typeof options.intervalMs === "number" ? options.intervalMs : undefined;
    const request = (path, headers, signal) => this.#authorized(path, undefined, headers, signal);
    // The poll machine only schedules (intervals, backoff, Retry-After): the monotonic clock, so a
    // wall clock stepping back does not stall polling.
    return new SessionPoller(request, SESSIONS_PATH + encodeSegment(sessionId), interval, options, monoNow);
  }

  /**
   * Connects to the consultation room over Socket.IO and stays joined across token changes,
   * reconnects and server restarts, until `disconnect()` or the session ends.
   */
  connectVideoSession(options) {
    // The socket machine only keeps deadlines (connect, ping, backoff, acks): the monotonic clock.
    return new VideoSession(this, options, this.#o.baseUrl, monoNow);
  }

  /**
   * Auth for the official socket.io-client: `io(url, { auth: client.socketIoAuth() })`. It is a
   * function socket.io-client calls at every (re)connect, so the token is always current.
   */
  socketIoAuth() {
    return (callback) => {
      this.getValidToken().then(
        (token) => callSafely(callback, { token }),
        () => callSafely(callback, {}),
      );
    };
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on(event, listener) {
    if (!EVENTS.includes(event)) throw new TypeError("unknown event name");
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    const off = this.#listeners.add(event, listener);
    if (event === "warning" && this.#startupWarning) {
      const warning = this.#startupWarning;
      this.#startupWarning = null;
      this.#listeners.emit("warning", warning);
    }
    return off;
  }

  /** What is known about the current token, or null. */
  tokenInfo() {
    const m = this.#machine;
    const token = m.token();
    if (token === undefined) return null;
    const now = this.#o.now();
    const time = (which) => {
      const value = m.tokenTime(now, which);
      return Number.isNaN(value) ? null : value;
    };
    return {
      token,
      expiresAt: m.tokenTime(now, 0),
      issuedAt: time(1),
      expiresInMs: m.tokenTime(now, 2),
      skewMs: m.tokenTime(now, 3),
      refreshCount: m.tokenTime(now, 4),
      lastRefreshAt: time(5),
    };
  }

  /**
   * The app is active again (React Native's `AppState` becoming `active`, or any event a platform
   * has): timers may have slept through the refresh time, so the machine re-checks the token and
   * refreshes at once if it is due. Pages need not call it (visibility, online and focus do).
   */
  wake() {
    this.#feed(In.Wake, 0);
  }

  /** Server logout (best effort), storage cleared, other tabs told. */
  async signOut() {
    await this.#call(In.SignOut);
  }

  /** Stops background work (auto-refresh, tab and page listeners). Calls still work. */
  dispose() {
    this.#feed(In.Dispose, 0);
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

  // --- the machine's I/O -------------------------------------------------------------------

  /** Feeds one input, then performs every action and re-arms the timer. */
  #feed(kind, id, text, extra, number, replaces) {
    this.#pump([kind, id, text, extra, number, replaces]);
  }

  /** A call answered by the machine (Resolve/Reject with its id). */
  #call(kind, text, extra, number) {
    return new Promise((resolve, reject) => {
      const id = this.#nextCall++;
      this.#calls.set(id, [resolve, reject]);
      this.#feed(kind, id, text, extra, number);
    });
  }

  #perform(op, m) {
    const id = m.id();
    const o = this.#o;
    // An error's code is the op's text.
    const error = () => machineError(m.text(), m.status());
    switch (op) {
      case Op.ReadStorage:
        this.#storage.read().then(
          (stored) => this.#feed(In.StorageRead, id, stored?.[0], stored?.[1]),
          () => this.#feed(In.StorageFailed, id),
        );
        return;
      case Op.WriteStorage:
      case Op.ClearStorage:
        this.#storage.write(op === Op.WriteStorage ? m.text() : null, m.extra()).then(
          () => this.#feed(In.StorageDone, id),
          () => this.#feed(In.StorageFailed, id),
        );
        return;
      case Op.AcquireLock: {
        const release = requestLock(LOCK_PREFIX + o.tokenKey, () => this.#feed(In.LockGranted, id));
        if (release) this.#locks.set(id, release);
        else queueMicrotask(() => this.#feed(In.LockUnavailable, id));
        return;
      }
      case Op.ReleaseLock:
        this.#locks.get(id)?.();
        this.#locks.delete(id);
        return;
      case Op.SendRefresh:
        this.#refresh(id, m.text());
        return this.#listeners.emit("refreshStarted", undefined);
      case Op.AbortRefresh:
        this.#requests.get(id)?.abort();
        this.#requests.delete(id);
        return;
      case Op.SendLogout:
        send(joinUrl(o.baseUrl, LOGOUT_PATH), { method: POST }, [[AUTHORIZATION, BEARER + m.text()]], this.#timeoutMs).catch(() => {});
        return;
      case Op.AnnounceToken:
        this.#tabs?.announceToken(m.text(), m.extra(), m.replaces());
        return;
      case Op.AnnounceSignOut:
        this.#tabs?.announceSignOut(m.text());
        return;
      case Op.Resolve:
      case Op.Reject: {
        const call = this.#calls.get(id);
        this.#calls.delete(id);
        if (op === Op.Resolve) call?.[0](m.text());
        else call?.[1](error());
        return;
      }
      case Op.TokenChanged:
        return this.#listeners.emit("tokenChanged", this.tokenInfo());
      case Op.TokenRefreshed:
        return this.#listeners.emit("tokenRefreshed", this.tokenInfo());
      case Op.RefreshFailed:
        return this.#listeners.emit("refreshFailed", error());
      case Op.SessionExpired:
        return this.#listeners.emit("sessionExpired", error());
      case Op.Warning:
        return this.#listeners.emit("warning", error());
      default:
        throw new ConsultError("INTERNAL", "unknown action " + op + " from the token machine");
    }
  }

  /** POST the refresh endpoint; the answer (status, body, Date, Retry-After) goes to the machine. */
  #refresh(id, token) {
    const controller = new AbortController();
    this.#requests.set(id, controller);
    const init = { method: POST, headers: { [AUTHORIZATION]: BEARER + token }, signal: controller.signal };
    fetch(joinUrl(this.#o.baseUrl, REFRESH_PATH), init)
      .then(
        async (response) => {
          let body;
          try {
            body = await response.text();
          } catch {
            return this.#feed(In.RefreshUnreadable, id);
          }
          const header = (name) => response.headers.get(name) ?? undefined;
          this.#machine.setRetryAfter(header(RETRY_AFTER));
          this.#feed(In.RefreshAnswered, id, body, header(DATE), response.status);
        },
        () => this.#feed(In.RefreshNetworkError, id),
      )
      .finally(() => this.#requests.delete(id));
  }

  /** Visible again, online, focus: timers may have slept through the refresh time. */
  #listenForWakeUps() {
    // React Native's `window` is the global object, without addEventListener: `wake()` instead.
    if (!hasWindow() || typeof window.addEventListener !== "function") return;
    const onWake = () => {
      if (!pageHidden()) this.#feed(In.Wake, 0);
    };
    /** @type {Array<[EventTarget, string]>} */
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

  /** An authorised request, replayed with a new token from the machine for as long as core says (once after a 401). */
  async #authorized(path, init, extraHeaders, cancel) {
    const o = this.#o;
    const url = joinUrl(o.baseUrl, path);
    const resolved = typeof location === "object" ? new URL(url, location.href).href : url;
    if (!this.#machine.mayCarryToken(resolved)) {
      throw new ConsultError("ORIGIN_NOT_ALLOWED", "the token goes only to " + o.baseUrl + " (or options.allowedOrigins)");
    }
    let token = await this.getValidToken();
    for (let replayed = false; ; replayed = true) {
      const response = await this.#sendWith(url, init, extraHeaders, token, cancel);
      if (!authorisedReplays(response.status, replayed)) return response;
      token = await this.#call(In.TokenRefused, token);
    }
  }

  #sendWith(url, init, extraHeaders, token, cancel) {
    // A copy, so the caller's init object is never modified and can be replayed.
    const headers = [...extraHeaders, [AUTHORIZATION, BEARER + token]];
    return send(url, Object.assign({}, init), headers, this.#timeoutMs, cancel);
  }
}
