// Storage: localStorage, sessionStorage, memory, or an adapter (sync or async). A storage that
// throws on write is replaced by memory (and the caller warns).

import { ConsultError, storageError } from "./errors.js";
import { hasWindow } from "./env.js";


function memoryStore() {
  const entries = new Map();
  return {
    getItem: (key) => entries.get(key) ?? null,
    setItem: (key, value) => void entries.set(key, String(value)),
    removeItem: (key) => void entries.delete(key),
  };
}

export class TokenStorage {
  constructor(kind) {
    this.backend = null;
    /** Whether other tabs see this storage (localStorage): cross-tab coordination applies. */
    this.shared = false;
    this.warning = null;
    if (kind === "memory") {
      this.backend = memoryStore();
    } else if (typeof kind === "object") {
      this.backend = kind;
    } else if (!hasWindow()) {
      this.backend = memoryStore();
    } else {
      try {
        const web = kind === "local" ? window.localStorage : window.sessionStorage;
        this.backend = web ?? memoryStore();
        this.shared = web != null && kind === "local";
      } catch (e) {
        this.backend = memoryStore();
        this.warning = storageError("storage unavailable, using memory", e);
      }
    }
  }

  /** Calls `backend[method](...)`, awaiting a promise if it returns one. */
  async #call(method, what, ...args) {
    const backend = this.backend;
    if (typeof backend[method] !== "function") {
      throw new ConsultError("STORAGE", "storage adapter lacks a method");
    }
    try {
      return await backend[method](...args);
    } catch (e) {
      throw storageError(what, e);
    }
  }

  /** The value of `key` (null when absent); throws a STORAGE error. */
  async get(key) {
    const value = await this.#call("getItem", "storage read failed", key);
    return typeof value === "string" ? value : null;
  }

  /** Writes `key`; on failure switches to memory (which then holds the value) and returns the error. */
  async set(key, value) {
    try {
      await this.#call("setItem", "storage write failed, using memory", key, value);
      return null;
    } catch (error) {
      this.backend = memoryStore();
      this.shared = false;
      this.backend.setItem(key, value);
      return error;
    }
  }

  /** Removes `key` (best effort). */
  async remove(key) {
    try {
      await this.#call("removeItem", "storage remove failed", key);
    } catch {
      // A failing removal is ignored.
    }
  }
}

