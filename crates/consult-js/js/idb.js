// IndexedDB: the store the cross-tab lock protects. A read in a transaction sees every write
// committed before it; localStorage does not (Chromium gives each tab a lagging copy).

const DATABASE = "consult";
const STORE = "tokens";

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

/** Whether this environment has IndexedDB. */
export const hasIndexedDb = () => typeof indexedDB === "object" && indexedDB !== null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
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
    const tx = db.transaction(STORE, mode);
    const pending = request(tx.objectStore(STORE));
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
  return typeof value?.token === "string" ? [value.token, value.expiresAt ?? undefined] : null;
}

/** Stores `{ token, expiresAt }` under `key`, or removes it (`null`); resolves once committed. */
export function idbSet(key, token, expiresAt) {
  return transact("readwrite", (store) => (token === null ? store.delete(key) : store.put({ token, expiresAt }, key)));
}
