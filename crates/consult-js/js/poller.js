// Session polling: a driver of consult-core's PollMachine. It sends the requests the machine asks
// for and tells it what came back; the machine decides when to poll (never two at once, paused
// in hidden tabs, backing off) and what an answer means (an update, an error, or the end).

import { PollMachine } from "./consult_core.js";
import * as PollIn from "./poll_in.js";
import * as PollOp from "./poll_op.js";
import { ConsultError, machineError } from "./errors.js";
import { callSafely } from "./events.js";
import { pageHidden, timerDelay } from "./env.js";

export class SessionPoller {
  #machine;
  #request;
  #path;
  #options;
  #ended = false;
  #controller = null;
  #timer;
  /** The last session received (for onUpdate) and the last request error (for onError). */
  #session;
  #error;
  #onVisibility;

  constructor(request, path, intervalMs, options) {
    this.#machine = new PollMachine(intervalMs, Math.random() * 2 ** 52);
    this.#request = request;
    this.#path = path;
    this.#options = options;
    this.#onVisibility = () => this.#feed(PollIn.Visibility, pageHidden());
    if (typeof document !== "undefined") document.addEventListener("visibilitychange", this.#onVisibility);
    this.#feed(PollIn.Start, pageHidden());
  }

  /** Whether polling has ended. */
  get stopped() {
    return this.#ended;
  }

  /** Stops polling and aborts the request in flight; onEnd("stopped") follows. */
  stop() {
    this.#feed(PollIn.Stop);
  }

  /** Same as stop() (kept from the wasm-bindgen API). */
  free() {
    this.stop();
  }

  [Symbol.dispose ?? Symbol.for("Symbol.dispose")]() {
    this.stop();
  }

  #feed(kind, hidden = false, status = 0, etag, sessionStatus, retryAfter, readable = false, code) {
    if (this.#ended) return;
    const m = this.#machine;
    m.feed(Date.now(), kind, hidden, status, etag, sessionStatus, retryAfter, readable, code);
    for (let op; (op = m.pollOutput()) !== PollOp.None; ) {
      switch (op) {
        case PollOp.Fetch:
          this.#fetch(m.text());
          break;
        case PollOp.Abort:
          this.#controller?.abort();
          break;
        case PollOp.Update:
          callSafely(this.#options.onUpdate, this.#session);
          break;
        case PollOp.Error:
          callSafely(this.#options.onError, this.#error ?? machineError(m.text(), m.status()));
          break;
        case PollOp.End:
          this.#end(m.text());
          return;
        default:
          throw new ConsultError("INTERNAL", "unknown action " + op + " from the poll machine");
      }
    }
    clearTimeout(this.#timer);
    const at = m.pollTimeout();
    if (!Number.isNaN(at)) {
      this.#timer = setTimeout(() => this.#feed(PollIn.Timer), timerDelay(at - Date.now()));
    }
  }

  async #fetch(etag) {
    const controller = (this.#controller = new AbortController());
    const headers = etag === undefined ? [] : [["If-None-Match", etag]];
    let response;
    try {
      response = await this.#request(this.#path, headers, controller.signal);
    } catch (error) {
      this.#error = error;
      return this.#feed(PollIn.Failed, false, error?.status ?? 0, undefined, undefined, undefined, false, error?.code);
    } finally {
      if (this.#controller === controller) this.#controller = null;
    }
    this.#error = undefined;
    let session;
    let readable = true;
    try {
      session = await response.json();
    } catch {
      readable = false;
    }
    this.#session = session;
    const header = (name) => response.headers.get(name) ?? undefined;
    const status = typeof session?.status === "string" ? session.status : undefined;
    this.#feed(PollIn.Answered, false, response.status, header("etag"), status, header("retry-after"), readable);
  }

  #end(reason) {
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#machine.free();
    if (typeof document !== "undefined") document.removeEventListener("visibilitychange", this.#onVisibility);
    callSafely(this.#options.onEnd, reason);
  }
}
