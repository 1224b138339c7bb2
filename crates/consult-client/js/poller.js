// Session polling, driven by consult-core's PollSchedule: never two requests at once, paused in
// hidden tabs, backing off on errors, If-None-Match, stopping on a terminal status.

import { PollSchedule, classifyStatus, retryAfterMs, sessionStatus } from "./consult_core.js";
import { httpError } from "./errors.js";
import { callSafely } from "./events.js";
import { pageHidden } from "./env.js";
import { json } from "./http.js";

// classifyStatus
const SUCCESS = 0;
// sessionStatus
const ENDED = 3;
const CANCELLED = 4;
// PollSchedule actions (>= 0: sleep that long)
const FETCH_NOW = -1;
const PAUSED = -2;
const AWAIT_RESULT = -3;
const STOPPED_TERMINAL = -4;
const STOPPED_STOPPED = -6;

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
        callSafely(options.onEnd, end);
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
      callSafely(options.onUpdate, session);
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
    callSafely(options.onError, error);
    return fatal ? this.#schedule.onFatal() : this.#schedule.onTransient(retryAfter, Math.random());
  }
}

