// The video session over Socket.IO: a WebSocket driver for consult-core's connection machine.
// The token is read with getValidToken() for every CONNECT and every join_room; an auth refusal
// forces one refresh (the client's single flight, shared with polling and fetch); the room is
// joined again after every reconnect.

import { SocketMachine, SocketOp, websocketUrl } from "./consult_core.js";
import { ConsultError } from "./errors.js";
import { timerDelay } from "./env.js";
import { Listeners } from "./events.js";

/** connectVideoSession's options with their defaults; a TypeError for a missing identifier. */
export function parseSessionOptions(options, baseUrl) {
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
    namespace: typeof options.namespace === "string" ? options.namespace : "/",
    // Numbers go to the machine as given: consult-core applies the defaults and bounds.
    attempts: number(retry.attempts),
    delayMs: number(retry.delayMs),
    maxDelayMs: number(retry.maxDelayMs),
  };
}

export class VideoSession {
  #client;
  #options;
  #now;
  #machine;
  #socket = null;
  #timer;
  #listeners = new Listeners();
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
    this.#listeners.add(String(event), listener);
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
        timerDelay(ackTimeoutMs),
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
    const m = this.#machine;
    for (let op; (op = m.next()) !== SocketOp.None; ) {
      switch (op) {
        case SocketOp.Open:
          this.#open();
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
          this.#onState(m.text(), m.extra());
          break;
        case SocketOp.Connected:
          this.#join();
          break;
        case SocketOp.Event:
          this.#onEvent(m.text());
          break;
        case SocketOp.Ack:
          this.#onAck(m.text(), m.extra());
          break;
        case SocketOp.ProtocolError:
          break;
        default:
          throw new ConsultError("INTERNAL", "unknown action " + op + " from the socket machine");
      }
    }
    clearTimeout(this.#timer);
    const at = this.#machine.nextTimeout();
    if (at !== undefined) {
      const delay = timerDelay(at - this.#now());
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

  #fetchToken(request, forceRefresh) {
    const token = forceRefresh ? this.#client.refreshAuthToken() : this.#client.getValidToken();
    token.then(
      (value) => this.#feed((m, now) => m.onToken(request, value, undefined, now, Math.random())),
      (error) => this.#feed((m, now) => m.onToken(request, undefined, error?.code, now, Math.random())),
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
    this.#listeners.emit(event, payload);
  }
}

