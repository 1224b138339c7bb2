// The getValidToken() hot path of the React Native entry in the Hermes engine (no JIT), run by
// tests/bench/react-native.mjs through tests/react-native/hermes-support.js (esbuild, React
// Native's Babel preset, the hermes CLI). Prints one line: `BENCH {json}` (calls/s, medians).
// __SCENARIO__: { token, grant, rounds, roundMs }.

import { startedAt } from "../react-native/hermes-env.js";
import { ConsultClient } from "../../target/pkg/react-native/index.js";

const { token, grant, rounds, roundMs } = __SCENARIO__;
const BATCH = 100;
const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function sequential(client, ms) {
  let calls = 0;
  const start = Date.now();
  while (Date.now() < start + ms) {
    for (let i = 0; i < BATCH; i++) await client.getValidToken();
    calls += BATCH;
  }
  return calls / ((Date.now() - start) / 1000);
}
async function concurrent(client, ms) {
  let calls = 0;
  const start = Date.now();
  while (Date.now() < start + ms) {
    const callers = [];
    for (let i = 0; i < BATCH; i++) callers.push(client.getValidToken());
    await Promise.all(callers);
    calls += BATCH;
  }
  return calls / ((Date.now() - start) / 1000);
}
async function tokenInfo(client, ms) {
  let calls = 0;
  const start = Date.now();
  while (Date.now() < start + ms) {
    for (let i = 0; i < BATCH; i++) if (client.tokenInfo().token !== token) throw new Error("wrong token");
    calls += BATCH;
    await null;
  }
  return calls / ((Date.now() - start) / 1000);
}

async function run() {
  const client = new ConsultClient({ baseUrl: "http://127.0.0.1:9", storage: "memory", autoRefresh: false });
  await client.setSession(grant);
  if ((await client.getValidToken()) !== token) throw new Error("wrong token");
  // From the first module of the script: the entry's modules evaluated, a client, a first token.
  const firstTokenMs = Date.now() - startedAt;
  const result = { firstTokenMs };
  if (rounds === 0) {
    // Start-up only (tests/bench/react-native.mjs times the whole process).
    client.dispose();
    return result;
  }
  for (const [mode, fn] of [["sequential", sequential], ["concurrent", concurrent], ["tokenInfo", tokenInfo]]) {
    await fn(client, 200);
    const samples = [];
    for (let r = 0; r < rounds; r++) samples.push(await fn(client, roundMs));
    result[mode] = median(samples);
  }
  client.dispose();
  return result;
}

run().then(
  (result) => print("BENCH " + JSON.stringify(result)),
  (error) => print("FAILED " + (error && error.message)),
);
