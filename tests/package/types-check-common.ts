// Compiled with tsconfig.common.json: the package's declarations with `lib: ["es2022", "dom"]`
// (no `esnext.disposable`) and `skipLibCheck: false`. Type-checked only.

import { ConsultClient, ConsultError } from "consult-client";
import type { VideoSessionState } from "consult-client";
import { ConsultClient as SlimClient, ConsultError as SlimError } from "consult-client/slim";

const client = new ConsultClient({ baseUrl: "https://api.example.test" });
const token: Promise<string> = client.getValidToken();
const state: VideoSessionState = "joined";
const failed = (error: unknown): string | undefined => (error instanceof ConsultError ? error.code : undefined);
client[Symbol.dispose]();
client.dispose();

// consult-client/slim: the same API without the video session.
const slim = new SlimClient({ baseUrl: "https://api.example.test", storage: "memory" });
const slimToken: Promise<string> = slim.getValidToken();
const slimFailed = (error: unknown): boolean => error instanceof SlimError && error.retryable;
// @ts-expect-error consult-client/slim has no video session
void slim.connectVideoSession({ sessionId: "s-1", roomId: "room-s-1", userId: "patient-1", role: "PATIENT" });

void [token, state, failed, slimToken, slimFailed];
