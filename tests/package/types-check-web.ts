// The --target web build's own entry points: initSync / default init and their types.
// Type-checked only (tests/package/tsconfig.json); see types-check.ts for the API.

import init, { initSync } from "consult-client";
import type { InitInput, InitOutput, SyncInitInput } from "consult-client";

declare const bytes: Uint8Array<ArrayBuffer>;
declare const compiled: WebAssembly.Module;

const sync: InitOutput = initSync({ module: bytes });
const fromModule: SyncInitInput = compiled;
initSync({ module: fromModule });
const memory: WebAssembly.Memory = sync.memory;

async function start(): Promise<InitOutput> {
  const input: InitInput = new URL("consult_client_bg.wasm", "https://example.test/pkg/");
  await init();
  return init({ module_or_path: input });
}

void [memory, start];
