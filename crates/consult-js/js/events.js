// Listeners of named events. A throwing listener never breaks the caller (the client, a
// session): its exception is swallowed and the other listeners still run.

/** Calls `callback(payload)` if it is a function, swallowing what it throws. */
export function callSafely(callback, payload) {
  try {
    if (typeof callback === "function") callback(payload);
  } catch {
    // A listener's bug must not stop the client.
  }
}

export class Listeners {
  #entries = [];

  /** Adds `listener` for `event`; returns the function that removes it. */
  add(event, listener) {
    const entry = [event, listener];
    this.#entries.push(entry);
    return () => {
      this.#entries = this.#entries.filter((e) => e !== entry);
    };
  }

  /** Calls every listener of `event` (those present when the call starts) with `payload`. */
  emit(event, payload) {
    for (const [name, listener] of this.#entries.slice()) {
      if (name === event) callSafely(listener, payload);
    }
  }
}
