// Mints COUNT access tokens through the stub's dev endpoint and writes them, one a line, to OUT.
// Each token is its own sign-in (own jti and sid), so each can be refreshed once ("mint new
// successor" path of the refresh benchmark).
//
//   node tests/bench/mint-tokens.js http://127.0.0.1:PORT COUNT OUT [TTL_SECS]
//
// Loopback only; bounded: COUNT requests, 64 in flight, gives up after 120 s.
import { writeFileSync } from "node:fs";

const [base, countArg, out, ttlArg] = process.argv.slice(2);
if (!base || !countArg || !out) {
  console.error("usage: mint-tokens.js BASE_URL COUNT OUT [TTL_SECS]");
  process.exit(2);
}
const url = new URL(base);
if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
  console.error(`refusing to load ${url.hostname}: loopback only`);
  process.exit(2);
}
const count = Number(countArg);
const ttl = Number(ttlArg ?? 4 * 3600);
const CONCURRENCY = 64;
const deadline = setTimeout(() => {
  console.error("mint-tokens: gave up after 120 s");
  process.exit(1);
}, 120_000);

const tokens = new Array(count);
let next = 0;
async function worker() {
  while (next < count) {
    const i = next++;
    const res = await fetch(new URL("/api/dev/token", url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user_id: `bench-refresh-${i}`, ttl_secs: ttl }),
    });
    if (!res.ok) throw new Error(`POST /api/dev/token: ${res.status} ${await res.text()}`);
    tokens[i] = (await res.json()).access_token;
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
writeFileSync(out, tokens.join("\n") + "\n");
clearTimeout(deadline);
console.error(`mint-tokens: ${count} tokens written to ${out}`);
