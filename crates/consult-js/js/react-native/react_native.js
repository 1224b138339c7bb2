// React Native helpers: the token in AsyncStorage, wake-ups from AppState. Nothing here imports
// "react-native": the application passes its AsyncStorage and AppState, so this module also
// loads in Node (tests) and in any engine.
//
// What React Native does not have, and the driver copes without: Web Locks and BroadcastChannel
// (one JS context, so no other tab to coordinate with: a storage adapter is never shared, the
// client refreshes unlocked and announces nothing), localStorage, IndexedDB and `document`.
// The video session uses React Native's global WebSocket; requests its global fetch.

/** The methods a StorageAdapter needs (AsyncStorage has them, returning promises). */
const METHODS = ["getItem", "setItem", "removeItem"];

/**
 * A StorageAdapter over React Native's AsyncStorage (`@react-native-async-storage/async-storage`)
 * or anything with the same promise-returning `getItem` / `setItem` / `removeItem`. The token and
 * its expiry are kept under the client's `storageKeys` (the seed's `authToken` and
 * `tokenExpiresAt` by default), so a session stored by the seed's app is picked up.
 *
 *   new ConsultClient({ baseUrl, storage: asyncStorageAdapter(AsyncStorage) })
 */
export function asyncStorageAdapter(asyncStorage) {
  for (const method of METHODS) {
    if (typeof asyncStorage?.[method] !== "function") {
      throw new TypeError("asyncStorageAdapter needs an object with getItem, setItem and removeItem (AsyncStorage)");
    }
  }
  return {
    getItem: (key) => asyncStorage.getItem(key),
    setItem: (key, value) => asyncStorage.setItem(key, value),
    removeItem: (key) => asyncStorage.removeItem(key),
  };
}

/**
 * Calls `client.wake()` whenever React Native's AppState becomes `active` (the app comes back to
 * the foreground: its timers may have slept through the refresh time). Returns the function that
 * stops listening.
 *
 *   import { AppState } from "react-native";
 *   const stop = wakeOnAppState(client, AppState);
 */
export function wakeOnAppState(client, appState) {
  if (typeof client?.wake !== "function") throw new TypeError("wakeOnAppState needs a ConsultClient");
  if (typeof appState?.addEventListener !== "function") throw new TypeError("wakeOnAppState needs React Native's AppState");
  const listener = (state) => {
    if (state === "active") client.wake();
  };
  const subscription = appState.addEventListener("change", listener);
  return () => {
    // React Native >= 0.65 returns a subscription; older versions had removeEventListener.
    if (typeof subscription?.remove === "function") subscription.remove();
    else if (typeof appState.removeEventListener === "function") appState.removeEventListener("change", listener);
  };
}
