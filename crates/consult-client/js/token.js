// Reading a token's times (consult-core decides) and the stored expiry format.

import { jwtPayload, serverTimeFromExpiresIn, tokenExpiresAt, tokenIssuedAt } from "./consult_core.js";
import { ConsultError } from "./errors.js";

/** `YYYY-MM-DDTHH:MM:SSZ` of a Unix time in ms (what is stored under `tokenExpiresAt`). */
export function formatUtc(ms) {
  const text = new Date(ms).toISOString();
  return text.length === 24 ? text.slice(0, 19) + "Z" : text;
}

/** An `expires_at` as text: a string as is, a number (epoch seconds) in decimal. */
export function expiresAtText(value) {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value) && value >= 0 && value < 1e12) {
    return String(Math.trunc(value));
  }
  return undefined;
}

/** Reads a token's times: the JWT's `exp`/`iat`, or `expiresAt` when the token has no `exp`. */
export function readToken(token, expiresAt) {
  const unusable = (what) => new ConsultError("NO_TOKEN", "stored token is unusable: " + what);
  const payload = typeof token === "string" ? jwtPayload(token) : undefined;
  if (payload === undefined) throw unusable("not a JWT");
  let claims;
  try {
    claims = JSON.parse(payload);
  } catch {
    throw unusable("payload is not JSON");
  }
  const number = (v) => (typeof v === "number" ? v : undefined);
  const exp = number(claims?.exp);
  const iat = number(claims?.iat);
  const expiresAtMs = tokenExpiresAt(exp, iat, expiresAt ?? undefined);
  if (expiresAtMs === undefined) throw unusable("no expiry");
  return { token, exp: expiresAtMs, iat: tokenIssuedAt(exp, iat) };
}

/** The server's clock when it answered, from the token's expiry and `expires_in` (seconds). */
export const serverNowFromExpiresIn = (info, expiresIn) =>
  serverTimeFromExpiresIn(info.exp, typeof expiresIn === "number" ? expiresIn : undefined);

