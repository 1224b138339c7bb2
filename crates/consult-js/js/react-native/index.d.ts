// consult-client for React Native: the package's API plus the React Native helpers.

import type { ConsultClient, StorageAdapter } from "./consult_client.js";

export * from "./consult_client.js";

/** What `asyncStorageAdapter` needs: React Native's AsyncStorage, or the same three methods. */
export interface AsyncStorageLike {
  getItem(key: string): Promise<string | null> | string | null;
  setItem(key: string, value: string): Promise<unknown> | unknown;
  removeItem(key: string): Promise<unknown> | unknown;
}

/** A StorageAdapter over AsyncStorage (keys: the client's `storageKeys`, the seed's by default). */
export function asyncStorageAdapter(asyncStorage: AsyncStorageLike): StorageAdapter;

/** What `wakeOnAppState` needs: React Native's `AppState`. */
export interface AppStateLike {
  addEventListener(type: "change", listener: (state: string) => void): { remove(): void } | void;
  removeEventListener?(type: "change", listener: (state: string) => void): void;
}

/** Calls `client.wake()` whenever AppState becomes `active`; returns the function that stops it. */
export function wakeOnAppState(client: ConsultClient, appState: AppStateLike): () => void;
