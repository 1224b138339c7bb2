// React Native's additions to the bare Hermes engine, for scripts run by the `hermes` CLI
// (tests/react-native/hermes.test.js, tests/bench/react-native-hermes.js): imported first, it
// records what the engine itself has (`engine`), then installs what React Native's InitializeCore
// would: `window` as the global object, timers that wait their delay, AbortController. fetch is
// each script's own.

/** When the first module of the script started (before the entry's modules evaluate). */
export const startedAt = Date.now();

// What the engine has, before anything is installed.
export const engine = {
  WebAssembly: typeof WebAssembly,
  TextDecoder: typeof TextDecoder,
  TextEncoder: typeof TextEncoder,
  localStorage: typeof localStorage,
  BroadcastChannel: typeof BroadcastChannel,
  navigator: typeof navigator,
  fetch: typeof fetch,
  HermesInternal: typeof HermesInternal,
};

// ---- React Native's additions to the engine (InitializeCore), as stand-ins -------------------

globalThis.window = globalThis;

// React Native's timers (JSTimers) wait their delay and accept any id in clearTimeout; the Hermes
// CLI's run at once, in order, and throw on `clearTimeout(undefined)`. These wait (by re-queueing
// a check on the engine's timer queue) and are cleared as React Native's are.
const engineSetTimeout = globalThis.setTimeout;
const timers = new Map();
let nextTimer = 1;
let ticking = false;
function tick() {
  ticking = false;
  const now = Date.now();
  for (const [id, timer] of [...timers]) {
    if (timer.at <= now && timers.has(id)) {
      timers.delete(id);
      timer.callback(...timer.args);
    }
  }
  if (timers.size > 0 && !ticking) {
    ticking = true;
    engineSetTimeout(tick, 0);
  }
}
globalThis.setTimeout = (callback, delay, ...args) => {
  const id = nextTimer++;
  timers.set(id, { at: Date.now() + (Number(delay) || 0), callback, args });
  if (!ticking) {
    ticking = true;
    engineSetTimeout(tick, 0);
  }
  return id;
};
globalThis.clearTimeout = (id) => {
  timers.delete(id);
};

function AbortSignal() {
  this.aborted = false;
  this.listeners = [];
}
AbortSignal.prototype.addEventListener = function (name, listener) {
  if (name === "abort") this.listeners.push(listener);
};
AbortSignal.prototype.removeEventListener = function (name, listener) {
  this.listeners = this.listeners.filter((l) => l !== listener);
};
globalThis.AbortController = function AbortController() {
  this.signal = new AbortSignal();
};
globalThis.AbortController.prototype.abort = function () {
  if (this.signal.aborted) return;
  this.signal.aborted = true;
  for (const listener of this.signal.listeners) listener();
};

export function pendingTimers() {
  return timers.size;
}
