// consult-client's React Native entry (target/pkg/react-native) in the real Hermes engine: the
// `hermes` CLI of npm hermes-engine-cli 0.12.0 (no WebAssembly, no TextDecoder / TextEncoder, no
// class syntax). The entry and a scripted scenario (hermes-scenario.js) are bundled into one
// script by esbuild (iife), transformed by React Native's Babel preset (@react-native/babel-preset,
// as Metro does; its helpers inlined instead of required from @babel/runtime), and run by Hermes,
// which rejects any syntax it lacks. The scenario loads the entry, parses a stored token, decides
// to refresh it, adopts a scripted refresh answer and fires the events; it prints one RESULT line.
//
// It fails if the bundle uses WebAssembly (checked in the code, comments stripped), needs
// TextDecoder or anything else Hermes lacks (Hermes then throws and no RESULT is printed), or if
// Hermes cannot parse it.
//
// Run: scripts/build-package.sh, then `node --test --test-concurrency=1 react-native/` from
// tests/ (scripts/test-package.sh does both).

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { HERMES, bundle, runHermes } from "./hermes-support.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const PKG = resolve(HERE, "..", "..", "target", "pkg", "react-native");
const BASE_URL = "https://api.example.test";

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** An HS256-shaped JWT (the client reads its claims; only the server checks the signature). */
const jwt = (claims) => `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}.c2lnbmF0dXJl`;

/** The scenario's tokens: the stored one has 2 minutes left (inside the 5-minute margin). */
function scenarioTokens() {
  const now = Math.floor(Date.now() / 1000);
  const user = { user_id: "patient-hermes", email: "patient-hermes@example.test", role: "PATIENT", name: "Pat Hermes" };
  const claims = { sub: user.user_id, role: "PATIENT", sid: "sign-in-1", iss: "consult-stub" };
  const oldExp = now + 120;
  const newExp = now + 4 * 3600;
  return {
    baseUrl: BASE_URL,
    user,
    oldToken: jwt({ ...claims, iat: oldExp - 4 * 3600, exp: oldExp, jti: "old" }),
    oldExpiresAt: new Date(oldExp * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
    newToken: jwt({ ...claims, iat: now, exp: newExp, jti: "new" }),
    newExp,
    newExpiresAt: new Date(newExp * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

async function scenarioInHermes(perModule) {
  assert.ok(existsSync(join(PKG, "index.js")), `${PKG}/index.js missing: run scripts/build-package.sh first`);
  assert.ok(existsSync(HERMES), `${HERMES} missing: run scripts/setup.sh (npm hermes-engine-cli in tests/)`);

  // The entry alone, as an app's bundle would hold it: nothing in its code may use WebAssembly
  // (comments are gone: Babel ran with comments: false). The scenario itself looks for it.
  const entryScript = await bundle(join(PKG, "index.js"), null);
  const uses = /.{0,80}\bWebAssembly\b.{0,80}/.exec(entryScript);
  assert.equal(uses, null, `the entry uses WebAssembly: …${uses?.[0]}…`);

  const scenario = scenarioTokens();
  const script = await bundle(join(HERE, "hermes-scenario.js"), scenario, { perModule });

  const dir = mkdtempSync(join(tmpdir(), "consult-hermes-"));
  try {
    const file = join(dir, "bundle.js");
    writeFileSync(file, script);
    const { error, stdout, stderr } = await runHermes(file);
    // Hermes quotes the offending (one-line, minified) source line: keep each line short.
    const short = (text) => text.split("\n").map((l) => (l.length > 300 ? l.slice(0, 300) + "…" : l)).join("\n").slice(0, 6000);
    const story = `\nhermes exit: ${error ? error.code ?? error.signal : 0}\nstdout:\n${short(stdout)}\nstderr:\n${short(stderr)}`;
    assert.equal(error, null, `hermes failed${story}`);
    const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
    assert.ok(line, `no RESULT line${story}`);
    const result = JSON.parse(line.slice("RESULT ".length));
    if (process.env.HERMES_VERBOSE) console.log(line);

    // The engine really lacks what the entry must not need.
    assert.equal(result.engine.WebAssembly, "undefined", "Hermes has no WebAssembly");
    assert.equal(result.engine.TextDecoder, "undefined", "Hermes has no TextDecoder");
    assert.equal(result.engine.HermesInternal, "object", "it is Hermes");
    // The scenario.
    assert.deepEqual(result.tokens, ["new", "new", "new", "new", "new"], "five callers, the refreshed token");
    assert.equal(result.again, "new", "the next call gets it at once");
    assert.deepEqual(result.requests, [{ path: "/api/video/auth/refresh-token", method: "POST", token: "old" }], "one refresh, with the stored token");
    assert.deepEqual(result.events, [["tokenChanged", "old"], ["tokenRefreshed", "new"], ["tokenChanged", "new"]], "events");
    assert.equal(result.expiresAt, scenario.newExp * 1000, "the answer's token parsed: exp");
    assert.equal(result.refreshCount, 1);
    assert.equal(result.stored, "new", "AsyncStorage holds the new token");
    assert.equal(Date.parse(result.storedExpiresAt), scenario.newExp * 1000, "and its expiry");
    assert.equal(result.timersLeft, 0, "dispose() left no timer running");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the React Native entry in Hermes (one bundle through React Native's Babel preset): loads without WebAssembly or TextDecoder, parses the stored token, decides one refresh, adopts the scripted answer, fires tokenChanged/tokenRefreshed", { timeout: 120_000 }, () =>
  scenarioInHermes(false));

test("the same in Hermes, bundled as Metro does (each module through the preset, ES modules as CommonJS)", { timeout: 120_000 }, () =>
  scenarioInHermes(true));
