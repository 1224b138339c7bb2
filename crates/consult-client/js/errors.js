// Errors: every failure is an Error with a stable `code`, the HTTP `status` and `retryable`.

import { classifyStatus } from "./consult_core.js";

/** classifyStatus: worth retrying. */
const TRANSIENT = 1;

/** Retry-After of a failed refresh attempt, kept off the public error object. */
export const RETRY_AFTER = Symbol("retryAfter");

/** Every failure: an Error with a stable `code`, the HTTP `status` and `retryable`. */
export class ConsultError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = "ConsultError";
    this.code = code;
    this.status = status;
    this.retryable =
      code === "HTTP"
        ? classifyStatus(status) === TRANSIENT
        : code === "NETWORK" || code === "TIMEOUT" || code === "STORAGE";
  }
}

export const messageOf = (value) =>
  typeof value === "string" ? value : typeof value?.message === "string" ? value.message : "unknown error";

export const storageError = (what, cause) => new ConsultError("STORAGE", what + ": " + messageOf(cause));

export const httpError = (response) => new ConsultError("HTTP", "HTTP " + response.status, response.status);

