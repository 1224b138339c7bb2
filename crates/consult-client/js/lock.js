// Cross-tab lock (Web Locks), always with a timeout: without the lock in time (or without the
// API) the caller goes on unlocked — the server's reuse window answers a duplicate refresh.

/**
 * Resolves to the release function, or null (no lock: go on without it).
 * @param {string} name
 * @param {number} timeoutMs
 * @returns {Promise<(() => void) | null>}
 */
export async function acquireLock(name, timeoutMs) {
  const locks = globalThis.navigator?.locks;
  if (!locks || typeof locks.request !== "function") return null;
  /** @type {() => void} */
  let release = () => {};
  /** @type {() => void} */
  let granted = () => {};
  const held = new Promise((resolve) => (release = () => resolve(undefined)));
  const acquired = new Promise((resolve) => (granted = () => resolve(undefined)));
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const pending = locks.request(name, { signal: controller.signal }, () => {
      granted();
      return held;
    });
    await Promise.race([acquired, pending]);
    return release;
  } catch {
    release();
    return null;
  } finally {
    clearTimeout(timer);
  }
}

