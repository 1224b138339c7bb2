// HTTP: one exchange with a timeout and cancellation.

import { ConsultError, messageOf } from "./errors.js";
import { timerDelay } from "./env.js";

/**
 * `fetch(url, init)` with extra headers, a timeout and optional cancel signals. Network failure
 * → NETWORK, timeout → TIMEOUT, cancel → ABORTED; any status is returned as is.
 */
export async function send(url, init, headers, timeoutMs, cancel) {
  const controller = new AbortController();
  let request;
  try {
    request = new Request(url, { ...init, signal: controller.signal });
    for (const [name, value] of headers) request.headers.set(name, value);
  } catch (e) {
    throw new ConsultError("BAD_RESPONSE", "bad request: " + messageOf(e));
  }
  const signals = [cancel, init?.signal].filter(Boolean);
  const onAbort = () => controller.abort();
  for (const signal of signals) signal.addEventListener("abort", onAbort);
  let timedOut = false;
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          controller.abort();
        }, timerDelay(timeoutMs))
      : undefined;
  try {
    if (signals.some((signal) => signal.aborted)) {
      throw new ConsultError("ABORTED", "request cancelled");
    }
    return await fetch(request);
  } catch (e) {
    if (e instanceof ConsultError) throw e;
    if (timedOut) throw new ConsultError("TIMEOUT", "no answer within the request timeout");
    if (e?.name === "AbortError") throw new ConsultError("ABORTED", "request cancelled");
    throw new ConsultError("NETWORK", "request failed: " + messageOf(e));
  } finally {
    clearTimeout(timer);
    for (const signal of signals) signal.removeEventListener("abort", onAbort);
  }
}

/** The body as JSON, or BAD_RESPONSE. */
export async function json(response) {
  try {
    return await response.json();
  } catch {
    throw new ConsultError("BAD_RESPONSE", "response body is not JSON", response.status);
  }
}

