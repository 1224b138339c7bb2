// Errors: every failure is an Error with a stable `code`, the HTTP `status` and `retryable`.

import { errorRetryable } from "./consult_core.js";

/** Every failure: an Error with a stable `code`, the HTTP `status` and `retryable` (core's rule). */
export class ConsultError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = "ConsultError";
    this.code = code;
    this.status = status;
    this.retryable = errorRetryable(String(code), status);
  }
}

export const messageOf = (value) =>
  typeof value === "string" ? value : typeof value?.message === "string" ? value.message : "unknown error";

/** What each of the token machine's codes says to a person. */
const MESSAGES = {
  NO_TOKEN: "no session: sign in first",
  REFRESH_REJECTED: "the server refused to refresh the token: sign in again",
  NETWORK: "the refresh request failed",
  TIMEOUT: "no answer within the request timeout",
  BAD_RESPONSE: "the refresh answer is not usable",
  STORAGE: "the storage failed: the token is kept in memory",
  ABORTED: "cancelled",
};

/** An error the token machine reported (`code`, `status`), with an optional cause. */
export function machineError(code, status, cause) {
  let message = MESSAGES[code] ?? (code === "HTTP" ? "HTTP " + status : "unexpected error " + code);
  if (cause !== undefined) message += ": " + messageOf(cause);
  return new ConsultError(code ?? "INTERNAL", message, status);
}

export const httpError = (response) => new ConsultError("HTTP", "HTTP " + response.status, response.status);
