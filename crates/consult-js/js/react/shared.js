// A small observable value, and the reference count that starts and stops the work behind it.
// The hooks' stores are built from these two; nothing here knows about tokens or sessions.

/** A value React reads with useSyncExternalStore: `get()` is stable until `set()` replaces it. */
export class Observable {
  #value;
  #listeners = new Set();

  constructor(value) {
    this.#value = value;
  }

  get = () => this.#value;

  /** Replaces the value with `{ ...value, ...changes }` and tells every listener. */
  update(changes) {
    this.#value = { ...this.#value, ...changes };
    for (const listener of [...this.#listeners]) listener();
  }

  /** Adds a listener; returns the function that removes it. */
  listen(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/**
 * Starts work for its first user and stops it after its last has gone, one microtask later: React
 * StrictMode unsubscribes and subscribes again within the same commit, so the work (a poller, a
 * room, event listeners) survives that instead of running twice.
 *
 *   const shared = new Shared(() => startPolling(), () => stopPolling());
 *   const release = shared.retain();   // starts on the first retain
 *   release();                          // stops once nobody retains it any more
 */
export class Shared {
  #start;
  #stop;
  #users = 0;
  #running = false;

  constructor(start, stop) {
    this.#start = start;
    this.#stop = stop;
  }

  /** Whether someone uses the work now. */
  get used() {
    return this.#users > 0;
  }

  retain() {
    this.#users += 1;
    if (!this.#running) {
      this.#running = true;
      this.#start();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#users -= 1;
      if (this.#users === 0) {
        Promise.resolve().then(() => {
          if (this.#users === 0 && this.#running) {
            this.#running = false;
            this.#stop();
          }
        });
      }
    };
  }
}

/** One object per key, made on first use (a store per session of a client). */
export function keyed(map, key, make) {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
