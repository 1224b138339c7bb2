// The cross-tab refresh lock (Web Locks). No timeout here: the machine has the deadline and
// asks for the release.

/**
 * Asks for the exclusive lock `name`; `granted` is called once it is held. Returns the function
 * that releases it (or withdraws the request), or null when this environment has no Web Locks.
 * @param {string} name
 * @param {() => void} granted
 * @returns {(() => void) | null}
 */
export function requestLock(name, granted) {
  const locks = globalThis.navigator?.locks;
  if (!locks || typeof locks.request !== "function") return null;
  const controller = new AbortController();
  /** @type {(value?: unknown) => void} */
  let release = () => {};
  const held = new Promise((resolve) => (release = resolve));
  locks
    .request(name, { signal: controller.signal }, () => {
      granted();
      return held;
    })
    .catch(() => {});
  return () => {
    controller.abort();
    release();
  };
}
