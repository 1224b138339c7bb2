// The client: token storage, pre-expiry refresh (single-flight in the page, a Web Lock across
// tabs), authorised requests, background refresh and the entry points of polling and the video
// session. Every decision is a call into consult-core.

import { backoffDelay, classifyStatus, delayUntilDue, estimateSkew, isDue, isExpired, parseHttpDate, retryAfterMs } from "./consult_core.js";
import { ConsultError, RETRY_AFTER, httpError } from "./errors.js";
import { Listeners, callSafely } from "./events.js";
import { clampNumber, encodeSegment, hasWindow, joinUrl, pageHidden, sleep } from "./env.js";
import { json, send } from "./http.js";
import { acquireLock } from "./lock.js";
import { SessionPoller } from "./poller.js";
import { TokenStorage } from "./storage.js";
import { TabSync } from "./tabs.js";
import { expiresAtText, formatUtc, readToken, serverNowFromExpiresIn } from "./token.js";
import { VideoSession, parseSessionOptions } from "./video_session.js";

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
const UNAUTHORIZED = 2;

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
  const keys = typeof options.storageKeys === "object" && options.storageKeys !== null ? options.storageKeys : {};
  const boolean = (value) => (typeof value === "boolean" ? value : true);
  const now = options.now;
  return {
    baseUrl: options.baseUrl,
    storage,
    tokenKey: typeof keys.token === "string" ? keys.token : "authToken",
    expiresKey: typeof keys.expiresAt === "string" ? keys.expiresAt : "tokenExpiresAt",
    marginSeconds: typeof options.refreshMarginSeconds === "number" ? options.refreshMarginSeconds : 300,
    timeoutMs: clampNumber(options.requestTimeoutMs, 10000, 0, 2147483647),
    retries: clampNumber(options.refreshRetries, 3, 0, 20),
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
  #listeners = new Listeners();
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
    const interval = clampNumber(options.intervalMs, 5000, 100, 86400000);
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
      this.#emit("warning", warning);
    }
    return off;
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
    this.#listeners.emit(event, payload);
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

