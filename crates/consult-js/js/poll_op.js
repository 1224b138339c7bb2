// The poll machine's outputs (`PollMachine.pollOutput()`), as numbers. Written from `PollOp` in
// src/poll.rs, which a test checks against this file; one constant each, so that a bundler
// inlines them.

/** Nothing more to do. */
export const None = 0;
/** Send the request, with `If-None-Match: text()` when there is one. */
export const Fetch = 1;
/** Abort the request in flight. */
export const Abort = 2;
/** Hand the session just received to `onUpdate`. */
export const Update = 3;
/** Report an error (code `text()`, `status()`) to `onError`. */
export const Error = 4;
/** Polling is over: `onEnd(text())`. */
export const End = 5;
