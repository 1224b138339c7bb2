// Where the token lives. With localStorage, the shared store is IndexedDB (what the cross-tab
// lock protects) and the seed's localStorage keys are kept as a mirror, for code that reads
// them; without IndexedDB, localStorage alone. Otherwise sessionStorage, memory or an adapter
// (sync or async). Every failure is reported to the machine, which decides what follows.

import { hasWindow } from "./env.js";
import { hasIndexedDb, idbGet, idbSet } from "./idb.js";

/** @typedef {{ getItem(key: string): unknown, setItem(key: string, value: string): unknown, removeItem(key: string): unknown }} Backend */

/** @returns {Backend} */
function memoryStore() {
  const entries = new Map();
  return {
    getItem: (key) => entries.get(key) ?? null,
    setItem: (key, value) => void entries.set(key, String(value)),
    removeItem: (key) => void entries.delete(key),
  };
}

export class TokenStorage {
  /**
   * @param {unknown} kind "local" | "session" | "memory" | an adapter
   * @param {string} tokenKey
   * @param {string} expiresKey
   */
  constructor(kind, tokenKey, expiresKey) {
    this.tokenKey = tokenKey;
    this.expiresKey = expiresKey;
    /** Whether other tabs see this storage: cross-tab coordination applies. */
    this.shared = false;
    /** Whether anything outlives the page (memory does not). */
    this.persistent = kind !== "memory";
    /** Why the configured storage could not be opened, if it could not. */
    this.failure = null;
    this.idb = false;
    /** @type {Backend} */
    this.backend = memoryStore();
    if (kind === "memory" || (typeof kind !== "object" && !hasWindow())) {
      this.backend = memoryStore();
      this.persistent = false;
    } else if (typeof kind === "object") {
      this.backend = /** @type {Backend} */ (kind);
    } else {
      try {
        const web = kind === "local" ? window.localStorage : window.sessionStorage;
        this.backend = web ?? memoryStore();
        this.shared = web != null && kind === "local";
        this.idb = this.shared && hasIndexedDb();
      } catch (e) {
        this.backend = memoryStore();
        this.persistent = false;
        this.failure = e;
      }
    }
  }

  /** `[token, expiresAt]` or null; rejects when the storage throws. */
  async read() {
    const stored = this.idb ? await idbGet(this.tokenKey) : null;
    if (stored) return stored;
    // Nothing in IndexedDB yet: the seed's keys (a session stored before this client).
    const token = await this.backend.getItem(this.tokenKey);
    if (typeof token !== "string") return null;
    const expiresAt = await this.backend.getItem(this.expiresKey);
    return [token, typeof expiresAt === "string" ? expiresAt : undefined];
  }

  /** Stores the token (`null` removes it); rejects when the storage throws. */
  async write(token, expiresAt) {
    if (this.idb) await idbSet(this.tokenKey, token, expiresAt);
    if (token === null) {
      await this.backend.removeItem(this.tokenKey);
      await this.backend.removeItem(this.expiresKey);
    } else {
      await this.backend.setItem(this.tokenKey, token);
      await this.backend.setItem(this.expiresKey, expiresAt);
    }
  }
}
