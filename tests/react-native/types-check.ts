// Type-level test of the React Native entry's .d.ts (never run, only type-checked): the package's
// API is re-exported and the React Native helpers take AsyncStorage and AppState as React Native
// types them. Run: scripts/test-package.sh (or `cd tests && npx tsc -p react-native/tsconfig.json`).

import { ConsultClient, asyncStorageAdapter, wakeOnAppState } from "consult-client";
import type { AppStateLike, AsyncStorageLike, StorageAdapter, TokenInfo } from "consult-client";

// @react-native-async-storage/async-storage's shape.
declare const AsyncStorage: {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
};
// react-native's AppState (addEventListener returns a NativeEventSubscription).
declare const AppState: {
  currentState: string;
  addEventListener(type: "change" | "memoryWarning", listener: (state: string) => void): { remove(): void };
};

const storage: StorageAdapter = asyncStorageAdapter(AsyncStorage);
const like: AsyncStorageLike = AsyncStorage;
const appState: AppStateLike = AppState;
const client = new ConsultClient({ baseUrl: "https://api.example.test", storage });
const stop: () => void = wakeOnAppState(client, AppState);
client.wake();
client.on("tokenRefreshed", (info: TokenInfo) => void info.expiresAt);
const token: Promise<string> = client.getValidToken();
void [like, appState, stop, token];
