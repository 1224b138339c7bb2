// The video session over Socket.IO: a WebSocket executor of consult-core's connection machine.
// The machine decides everything (the token for each CONNECT and each join_room, the room state,
// acknowledgements and their deadlines); this file opens the WebSocket, asks the client for
// tokens (its single flight, shared with polling and fetch), runs the timer, calls listeners.

import { SocketMachine } from "./consult_core.js";
import * as SocketOp from "./socket_op.js";
import { ConsultError } from "./errors.js";
import { timerDelay } from "./env.js";
import { Listeners } from "./events.js";
import { pump } from "./pump.js";

/** connectVideoSession's options with their defaults; a TypeError for a missing identifier. */
function parseSessionOptions(options, baseUrl) {
  const text = (key) => {
    const value = options?.[key];
    if (typeof value !== "string") {
      throw new TypeError("connectVideoSession needs string sessionId, roomId, userId and role");
    }
    return value;
  };
  const number = (value) => (typeof value === "number" ? value : undefined);
  const retry = typeof options?.reconnection === "object" && options.reconnection !== null ? options.reconnection : {};
  return {
    url: typeof options?.url === "string" ? options.url : baseUrl,
    sessionId: text("sessionId"),
    roomId: text("roomId"),
    userId: text("userId"),
    role: text("role"),
    namespace: typeof options.namespace === "string" ? options.namespace : undefined,
    // Numbers go to the machine as given: consult-core applies the defaults and bounds.
    attempts: number(retry.attempts),
    delayMs: number(retry.delayMs),
    maxDelayMs: number(retry.maxDelayMs),
  };
}

export class VideoSession {
  #client;
  #now;
  #machine;
  #socket = null;
  #timer;
  #listeners = new Listeners();
  #emits = new Map();
  #nextEmit = 1;

  /** Made by `client.connectVideoSession(options)`; a TypeError for options it cannot use. */
  constructor(client, options, baseUrl, now) {
    const o = parseSessionOptions(options, baseUrl);
    this.#client = client;
    this.#now = now;
    const seed = Math.random() * 2 ** 52;
    this.#machine = new SocketMachine(o.url, o.namespace, o.attempts, o.delayMs, o.maxDelayMs, o.roomId, o.sessionId, o.userId, o.role, seed);
    this.#machine.start(now());
    // Let the caller attach listeners before anything is reported.
    Promise.resolve().then(() => this.#feed(() => {}));
  }

  /**
   * Listens to `joined_room`, `participant_joined`, `participant_left`, `session_status`,
   * `error` (the server's `{code, message}`), `state` (`{state, reason}`) or any other event.
   */
  on(event, listener) {
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    this.#listeners.add(String(event), listener);
  }

  /** Sends an event; with `ackTimeoutMs`, resolves with the server's acknowledgement. */
  emit(event, data, ackTimeoutMs) {
    let args;
    try {
      args = data === undefined ? "" : JSON.stringify(data);
    } catch {
      // Not serialisable (a cycle, a BigInt): refused below.
    }
    if (typeof args !== "string") {
      return Promise.reject(new ConsultError("BAD_RESPONSE", "event data is not JSON-serialisable"));
    }
    const timeout = typeof ackTimeoutMs === "number" ? ackTimeoutMs : undefined;
    return new Promise((resolve, reject) => {
      const id = this.#nextEmit++;
      this.#emits.set(id, { resolve, reject });
      this.#feed((m, now) => m.emit(id, String(event), args, timeout, now));
    });
  }

  /** Leaves the room and closes the connection (no reconnect). */
  disconnect() {
    this.#feed((m, now) => m.disconnect(now));
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
    return this.#machine.state;
  }

  // --- internals ---------------------------------------------------------------------------

  /**
   * Feeds the machine an input (`(machine, now) => …`) and carries out every action it caused;
   * one input at a time (pump.js), then the timer is re-armed.
   */
  #feed = pump(
    (input) => {
      const m = this.#machine;
      input(m, this.#now());
      for (let op; (op = m.pollAction()) !== SocketOp.None; ) {
        switch (op) {
          case SocketOp.Open:
            this.#open(m.text());
            break;
          case SocketOp.Close:
            this.#close();
            break;
          case SocketOp.Send:
            try {
              this.#socket?.send(m.text());
            } catch {
              // A socket closing under us: its close event follows.
            }
            break;
          case SocketOp.FetchToken:
          case SocketOp.FetchRefreshedToken:
            this.#fetchToken(m.id(), op === SocketOp.FetchRefreshedToken);
            break;
          case SocketOp.State:
            this.#listeners.emit("state", { state: m.text(), reason: m.extra() });
            break;
          case SocketOp.Event:
            this.#onEvent(m.text());
            break;
          case SocketOp.EmitDone:
            this.#settle(m.id(), (emit) => emit.resolve(firstArgument(m.text())));
            break;
          case SocketOp.EmitFailed:
            this.#settle(m.id(), (emit) => emit.reject(new ConsultError(m.text(), "the emit failed")));
            break;
          case SocketOp.ProtocolError:
            break;
          default:
            throw new ConsultError("INTERNAL", "unknown action " + op + " from the socket machine");
        }
      }
    },
    () => {
      clearTimeout(this.#timer);
      const at = this.#machine.pollTimeout();
      if (!Number.isNaN(at)) {
        this.#timer = setTimeout(() => this.#feed((m, now) => m.handleTimeout(now)), timerDelay(at - this.#now()));
      }
    },
  );

  #open(url) {
    let socket;
    try {
      socket = new WebSocket(url);
    } catch {
      Promise.resolve().then(() => this.#feed((m, now) => m.onTransportClosed(now)));
      return;
    }
    socket.onopen = () => this.#feed((m, now) => m.onTransportOpen(now));
    socket.onmessage = (event) => {
      const frame = typeof event.data === "string" ? event.data : "";
      this.#feed((m, now) => m.onFrame(frame, now));
    };
    socket.onclose = () => {
      if (this.#socket === socket) this.#socket = null;
      this.#feed((m, now) => m.onTransportClosed(now));
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

  #fetchToken(request, forceRefresh) {
    const token = forceRefresh ? this.#client.refreshAuthToken() : this.#client.getValidToken();
    token.then(
      (value) => this.#feed((m, now) => m.onToken(request, value, undefined, now)),
      (error) => this.#feed((m, now) => m.onToken(request, undefined, error?.code, now)),
    );
  }

  #settle(id, settle) {
    const emit = this.#emits.get(id);
    this.#emits.delete(id);
    if (emit) settle(emit);
  }

  #onEvent(json) {
    let array;
    try {
      array = JSON.parse(json);
    } catch {
      return;
    }
    this.#listeners.emit(array[0], array[1]);
  }
}

/** The first argument of an acknowledgement's JSON array (`undefined` without one). */
function firstArgument(json) {
  try {
    return json === undefined ? undefined : JSON.parse(json)[0];
  } catch {
    return undefined;
  }
}
