// Compiled with tsconfig.common.json: the package's declarations with `lib: ["es2022", "dom"]`
// (no `esnext.disposable`) and `skipLibCheck: false`. Type-checked only.

import { ConsultClient, ConsultError } from "consult-client";
import type { VideoSessionState } from "consult-client";

const client = new ConsultClient({ baseUrl: "https://api.example.test" });
const token: Promise<string> = client.getValidToken();
const state: VideoSessionState = "joined";
const failed = (error: unknown): string | undefined => (error instanceof ConsultError ? error.code : undefined);
client[Symbol.dispose]();
client.dispose();

void [token, state, failed];
