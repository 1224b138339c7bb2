// Rotation soak and volume attack against a running consult-stub (127.0.0.1 only), for
// scripts/bench.sh. Two modes:
//
//   node rotation-soak.mjs soak  BASE PID SIGN_INS SECONDS
//     SIGN_INS sign-ins each refresh their current token about once a second (under the
//     default per-sign-in rate limit) for SECONDS; the server's RSS is sampled every 60 s.
//     Prints RESULT lines: refreshes, refused (by status), rss_start_kb, rss_end_kb, rss_max_kb,
//     rss_minutes_mb (the samples).
//
//   node rotation-soak.mjs chain BASE PID REFRESHES CHAINS
//     The attack, on a stub started without a practical rate limit: CHAINS sign-ins
//     chain REFRESHES refreshes in total as fast as they can; then the first sign-in's token
//     from about 2.5 minutes before the end (or its first token, if the run was shorter) is
//     replayed. Prints RESULT lines: refreshes, seconds, replay_status, replay_code,
//     current_status, current_code, rss_end_kb.
//
// Bounded: fixed counts and durations; every request has a 10 s timeout.

import { readFileSync } from "node:fs";

const [mode, base, pid, countArg, extraArg] = process.argv.slice(2);
if (!["soak", "chain"].includes(mode) || !base || !pid) {
  console.error("usage: rotation-soak.mjs soak|chain BASE PID N M");
  process.exit(2);
}

const rssKb = () => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
    return Number(line.split(/\s+/)[1]);
  } catch {
    return 0;
  }
};

/** A POST; a network failure (e.g. a keep-alive connection the server closed as idle just as
 * it was reused: the server closes idle connections after its 5 s header-read timeout) is
 * status 0. Retrying a refresh is safe: a repeat inside the reuse window gets the same answer. */
async function post(path, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(base + path, {
      method: "POST",
      headers,
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    return { status: 0, json: null };
  }
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, json };
}

async function mint(userId) {
  const { status, json } = await post("/api/dev/token", { body: { user_id: userId, ttl_secs: 14_400 } });
  if (status !== 200) throw new Error(`mint ${userId}: ${status}`);
  return json.access_token;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function soak(signIns, seconds) {
  const tokens = [];
  for (let i = 0; i < signIns; i++) tokens.push(await mint(`soak-${i}`));
  const rssStart = rssKb();
  let rssMax = rssStart;
  const samples = [];
  let refreshes = 0;
  const refused = {};
  const end = Date.now() + seconds * 1000;
  const sampler = setInterval(() => {
    const rss = rssKb();
    rssMax = Math.max(rssMax, rss);
    samples.push(rss);
    console.error(`[soak] ${Math.round((end - Date.now()) / 1000)} s left: ${refreshes} refreshes, RSS ${rss} KiB`);
  }, 60_000);
  await Promise.all(
    tokens.map(async (_, i) => {
      await sleep(Math.random() * 1000);
      while (Date.now() < end) {
        const started = Date.now();
        const { status, json } = await post("/api/video/auth/refresh-token", { token: tokens[i] });
        if (status === 200) {
          tokens[i] = json.access_token;
          refreshes++;
        } else {
          const key = status === 0 ? "network" : status;
          refused[key] = (refused[key] ?? 0) + 1;
        }
        await sleep(Math.max(0, 1050 - (Date.now() - started)));
      }
    }),
  );
  clearInterval(sampler);
  const rssEnd = rssKb();
  console.log(`RESULT refreshes=${refreshes}`);
  console.log(`RESULT refused=${JSON.stringify(refused)}`);
  console.log(`RESULT rss_start_kb=${rssStart}`);
  console.log(`RESULT rss_end_kb=${rssEnd}`);
  console.log(`RESULT rss_max_kb=${Math.max(rssMax, rssEnd)}`);
  console.log(`RESULT rss_minutes_mb=${samples.map((kb) => (kb / 1024).toFixed(1)).join(" ")}`);
}

async function chain(total, chains) {
  const tokens = [];
  for (let i = 0; i < chains; i++) tokens.push(await mint(`chain-${i}`));
  const started = Date.now();
  // The first sign-in's tokens, one kept every 10 s, to replay one from ~2.5 min before the end.
  const kept = [{ at: started, token: tokens[0] }];
  let done = 0;
  let failed = 0;
  let networkErrors = 0;
  await Promise.all(
    tokens.map(async (_, i) => {
      while (done < total && failed < 100) {
        done++;
        const { status, json } = await post("/api/video/auth/refresh-token", { token: tokens[i] });
        if (status === 0) {
          done--;
          networkErrors++;
          if (networkErrors > 1000) break;
          continue;
        }
        if (status !== 200) {
          failed++;
          console.error(`[chain] refresh ${done}: ${status} ${json?.error}`);
          continue;
        }
        tokens[i] = json.access_token;
        if (i === 0 && Date.now() - kept[kept.length - 1].at >= 10_000) {
          kept.push({ at: Date.now(), token: tokens[0] });
        }
        if (done % 100_000 === 0) console.error(`[chain] ${done} refreshes, RSS ${rssKb()} KiB`);
      }
    }),
  );
  const finished = Date.now();
  const target = finished - 150_000;
  const old = kept.filter((k) => k.at <= target).pop() ?? kept[0];
  const replay = await post("/api/video/auth/refresh-token", { token: old.token });
  const current = await post("/api/video/auth/refresh-token", { token: tokens[0] });
  console.log(`RESULT refreshes=${done - failed}`);
  console.log(`RESULT seconds=${((finished - started) / 1000).toFixed(1)}`);
  console.log(`RESULT network_errors=${networkErrors}`);
  console.log(`RESULT replayed_age_s=${((finished - old.at) / 1000).toFixed(0)}`);
  console.log(`RESULT replay_status=${replay.status}`);
  console.log(`RESULT replay_code=${replay.json?.error}`);
  console.log(`RESULT current_status=${current.status}`);
  console.log(`RESULT current_code=${current.json?.error}`);
  console.log(`RESULT rss_end_kb=${rssKb()}`);
}

if (mode === "soak") await soak(Number(countArg), Number(extraArg));
else await chain(Number(countArg), Number(extraArg ?? 8));
