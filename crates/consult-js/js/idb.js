// IndexedDB: the store the cross-tab lock protects. A read in a transaction sees every write
// committed before it; localStorage does not (Chromium gives each tab a lagging copy).

import { FIELD_EXPIRES_AT, FIELD_TOKEN, IDB_DATABASE, IDB_STORE, IDB_VERSION } from "./wire.js";

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

/** Whether this environment has IndexedDB. */
export const hasIndexedDb = () => typeof indexedDB === "object" && indexedDB !== null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(IDB_DATABASE, IDB_VERSION);
    request.onupgradeneeded = () => request.result.createObjectStore(IDB_STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("IndexedDB blocked"));
  });
  opening.catch(() => (opening = null));
  return opening;
}

/**
 * Runs one request in a transaction and resolves when the transaction commits.
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest} request
 */
async function transact(mode, request) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(IDB_STORE, mode);
    const pending = request(tx.objectStore(IDB_STORE));
    tx.oncomplete = () => resolve(pending.result);
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
  });
}

/**
 * The stored `[token, expiresAt]` of `key`, or null. The value is `{ token, expiresAt }`, the
 * format the crate's Rust driver uses too.
 */
export async function idbGet(key) {
  const value = await transact("readonly", (store) => store.get(key));
  const token = value?.[FIELD_TOKEN];
  return typeof token === "string" ? [token, value[FIELD_EXPIRES_AT] ?? undefined] : null;
}

/** Stores `{ token, expiresAt }` under `key`, or removes it (`null`); resolves once committed. */
export function idbSet(key, token, expiresAt) {
  return transact("readwrite", (store) => (token === null ? store.delete(key) : store.put({ [FIELD_TOKEN]: token, [FIELD_EXPIRES_AT]: expiresAt }, key)));
}
