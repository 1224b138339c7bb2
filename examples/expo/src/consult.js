// The app's one ConsultClient: the token in AsyncStorage under the seed's keys (authToken,
// tokenExpiresAt), so a session stored by an earlier run is picked up without a new sign-in.
// Metro resolves "consult-client" to the package's React Native entry (consult-core compiled to
// JavaScript: Hermes has no WebAssembly) by itself: no Metro or Babel configuration.
import AsyncStorage from "@react-native-async-storage/async-storage";
import { ConsultClient, asyncStorageAdapter } from "consult-client";

/**
 * The server: EXPO_PUBLIC_CONSULT_URL at build time, else consult-stub on 127.0.0.1:8086 (the
 * host's, after `adb reverse tcp:8086 tcp:8086`: its dev endpoints answer a loopback Host only).
 */
export const CONSULT_URL = process.env.EXPO_PUBLIC_CONSULT_URL ?? "http://127.0.0.1:8086";

export function createConsultClient(baseUrl = CONSULT_URL) {
  return new ConsultClient({ baseUrl, storage: asyncStorageAdapter(AsyncStorage) });
}
