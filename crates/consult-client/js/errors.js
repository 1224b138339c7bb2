// Errors: every failure is an Error with a stable `code`, the HTTP `status` and `retryable`.

import { classifyStatus } from "./consult_core.js";

/** classifyStatus: worth retrying. */
const TRANSIENT = 1;

/** Every failure: an Error with a stable `code`, the HTTP `status` and `retryable`. */
export class ConsultError extends Error {
  constructor(code, message, status, retryable) {
    super(message);
    this.name = "ConsultError";
    this.code = code;
    this.status = status;
    this.retryable =
      typeof retryable === "boolean"
        ? retryable
        : code === "HTTP"
          ? classifyStatus(status) === TRANSIENT
          : code === "NETWORK" || code === "TIMEOUT" || code === "STORAGE";
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
export function machineError(code, status, cause, retryable) {
  let message = MESSAGES[code] ?? (code === "HTTP" ? "HTTP " + status : "unexpected error " + code);
  if (cause !== undefined) message += ": " + messageOf(cause);
  return new ConsultError(code ?? "INTERNAL", message, status, retryable);
}

export const httpError = (response) => new ConsultError("HTTP", "HTTP " + response.status, response.status);
