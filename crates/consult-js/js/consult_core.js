// consult-core's machines as the classes the driver calls: a thin, hand-written layer over the
// wasm exports of crates/consult-js/src/ (their conventions: src/abi.rs). Machines
// live in the wasm behind handles; numbers cross as numbers (NaN or undefined: none); strings
// are written into the core's in buffer as UTF-8 (their byte lengths passed, -1: none) and read
// from its out buffer. No decision is taken here.
//
// The entry binds the exports before any machine is made: index.js (browsers and bundlers: the
// .wasm instantiated), slim.js (the same without the socket machine), node.js (the .wasm read
// from disk), react-native/index.js (the exports compiled to JavaScript by wasm2js, with a UTF-8
// codec where the engine has none).
//
//   bindCore(instance.exports);
//   const m = new TokenMachine(300, 10000, 3, true, true, true, seed);

/** The core of the token session, the poller and the decisions: the first one bound. */
let core;
/** The core of the socket machine: the first one bound that has it. */
let videoCore;
let encoder;
let decoder;

/**
 * Binds the core's exports (a wasm instance's, or the wasm2js module) and the codec to use.
 * An application that imports two entries (`consult-client` and `consult-client/slim`) binds two
 * cores: a machine stays in the core it was made in, so the first core bound serves every
 * machine it has and a later one only adds the socket machine when the first lacks it.
 * @param {any} exports
 * @param {{ TextEncoder: any, TextDecoder: any }} [codec]
 */
export function bindCore(exports, codec = globalThis) {
  if (!core) {
    core = exports;
    encoder = new codec.TextEncoder();
    decoder = new codec.TextDecoder();
  }
  if (!videoCore && exports.sm_new) videoCore = exports;
}

/**
 * Writes the strings (undefined or null: none) into core `c`'s in buffer, one after the other;
 * their byte lengths, -1 for none. The memory is read after `io_in`, which may grow it.
 * @param {any} c
 * @param {...(string | null | undefined)} texts
 * @returns {number[]}
 */
function put(c, ...texts) {
  const bytes = texts.map((text) => (text == null ? null : encoder.encode(text)));
  let at = c.io_in(bytes.reduce((sum, b) => sum + (b ? b.length : 0), 0));
  const memory = new Uint8Array(c.memory.buffer);
  return bytes.map((b) => {
    if (!b) return -1;
    memory.set(b, at);
    at += b.length;
    return b.length;
  });
}

/**
 * The string a getter put into core `c`'s out buffer, given its byte length (-1: none).
 * @param {any} c
 * @param {number} length
 */
const take = (c, length) =>
  length < 0 ? undefined : decoder.decode(new Uint8Array(c.memory.buffer, c.io_out(), length));

/** @param {number} n */
const some = (n) => (n === n ? n : undefined);

/** Frees a machine the application dropped without `free()` (where the engine can tell). */
const registry =
  typeof FinalizationRegistry === "function" ? new FinalizationRegistry(([free, handle]) => free(handle)) : undefined;

class Machine {
  /**
   * @param {number} handle
   * @param {(handle: number) => void} free
   */
  constructor(handle, free) {
    this.h = handle;
    this.f = free;
    registry?.register(this, [free, handle], this);
  }

  /** Drops the machine in the core; later calls are ignored. */
  free() {
    registry?.unregister(this);
    this.f(this.h);
    this.h = 0;
  }
}

/** The token session (src/session.rs); ops and kinds: session_op.js, session_in.js. */
export class TokenMachine extends Machine {
  constructor(marginSeconds, requestTimeoutMs, refreshRetries, crossTab, autoRefresh, storage, seed) {
    super(core.tm_new(marginSeconds, requestTimeoutMs, refreshRetries, crossTab, autoRefresh, storage, seed), core.tm_free);
  }
  requestTimeoutMs() {
    return core.tm_request_timeout(this.h);
  }
  setReplaces(value) {
    core.tm_set_replaces(this.h, ...put(core, value));
  }
  replaces() {
    return take(core, core.tm_replaces(this.h));
  }
  setRetryAfter(value) {
    core.tm_set_retry_after(this.h, ...put(core, value));
  }
  feed(now, mono, kind, id, text, extra, number) {
    core.tm_feed(this.h, now, mono, kind, id, ...put(core, text, extra), number);
  }
  pollAction() {
    return core.tm_poll(this.h);
  }
  id() {
    return core.tm_id(this.h);
  }
  text() {
    return take(core, core.tm_text(this.h));
  }
  extra() {
    return take(core, core.tm_extra(this.h));
  }
  status() {
    return some(core.tm_status(this.h));
  }
  pollTimeout() {
    return core.tm_timeout(this.h);
  }
  freshUntil(mono) {
    return core.tm_fresh_until(this.h, mono);
  }
  token() {
    return take(core, core.tm_token(this.h));
  }
  tokenTime(now, which) {
    return core.tm_time(this.h, now, which);
  }
  allowOrigin(url) {
    core.tm_allow_origin(this.h, ...put(core, url));
  }
  mayCarryToken(url) {
    return core.tm_may_carry(this.h, ...put(core, url)) !== 0;
  }
}

/** The session poller (src/poll.rs); ops and kinds: poll_op.js, poll_in.js. */
export class PollMachine extends Machine {
  constructor(intervalMs, seed) {
    super(core.pm_new(intervalMs, seed), core.pm_free);
  }
  feed(now, kind, hidden, status, etag, body, retryAfter, code) {
    const [e, b, r, c] = put(core, etag, body, retryAfter, code);
    core.pm_feed(this.h, now, kind, hidden, status, e, b, r, c);
  }
  pollAction() {
    return core.pm_poll(this.h);
  }
  text() {
    return take(core, core.pm_text(this.h));
  }
  status() {
    return some(core.pm_status(this.h));
  }
  pollTimeout() {
    return core.pm_timeout(this.h);
  }
}

/** The Socket.IO connection (src/socket.rs); ops: socket_op.js. */
export class SocketMachine extends Machine {
  constructor(url, namespace, attempts, delayMs, maxDelayMs, roomId, sessionId, userId, role, seed) {
    if (!videoCore) {
      throw new TypeError('connectVideoSession is not in consult-client/slim: import "consult-client" for the video session');
    }
    const [u, n, r, s, p, o] = put(videoCore, url, namespace, roomId, sessionId, userId, role);
    super(videoCore.sm_new(u, n, attempts, delayMs, maxDelayMs, r, s, p, o, seed), videoCore.sm_free);
  }
  start(now) {
    videoCore.sm_start(this.h, now);
  }
  onTransportOpen(now) {
    videoCore.sm_open(this.h, now);
  }
  onFrame(frame, now) {
    videoCore.sm_frame(this.h, ...put(videoCore, frame), now);
  }
  onToken(request, token, code, now) {
    videoCore.sm_token(this.h, request, ...put(videoCore, token, code), now);
  }
  onTransportClosed(now) {
    videoCore.sm_closed(this.h, now);
  }
  handleTimeout(now) {
    videoCore.sm_timeout(this.h, now);
  }
  disconnect(now) {
    videoCore.sm_disconnect(this.h, now);
  }
  emit(id, name, argsJson, ackTimeoutMs, now) {
    videoCore.sm_emit(this.h, id, ...put(videoCore, name, argsJson), ackTimeoutMs, now);
  }
  pollTimeout() {
    return videoCore.sm_next_timeout(this.h);
  }
  pollAction() {
    return videoCore.sm_next(this.h);
  }
  id() {
    return videoCore.sm_id(this.h);
  }
  text() {
    return take(videoCore, videoCore.sm_text(this.h));
  }
  extra() {
    return take(videoCore, videoCore.sm_extra(this.h));
  }
  get state() {
    return take(videoCore, videoCore.sm_state(this.h));
  }
}

/** Whether an error with this code and HTTP status (NaN or undefined: none) may succeed later. */
export const errorRetryable = (code, status) => core.error_retryable(...put(core, code), status) !== 0;

/** Whether an authorised call answered `status` gets a new token and is sent again (`replayed`: this is the replay's answer). */
export const authorisedReplays = (status, replayed) => core.authorised_replays(status, replayed ? 1 : 0) !== 0;

/** The error code a session answer (`status`, `body`; undefined: unreadable) fails with; undefined: a session. */
export const sessionAnswerError = (status, body) => take(core, core.session_answer(status, ...put(core, body)));
