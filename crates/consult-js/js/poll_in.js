// The poll machine's input kinds (`PollMachine.feed(now, kind, …)`), as numbers. Written from
// `PollIn` in src/poll.rs, which a test checks against this file; one constant each, so that a
// bundler inlines them.

/** Start polling (`hidden`: the page is hidden now). */
export const Start = 1;
/** The timer set to `pollTimeout()` fired. */
export const Timer = 2;
/** The page's visibility changed (`hidden`). */
export const Visibility = 3;
/** The request was answered: `status`, `etag`, `sessionStatus` (the body's `status`), `retryAfter`, `readable` (whether the body was JSON). */
export const Answered = 4;
/** The request failed with the client's error `code` (and `status`). */
export const Failed = 5;
/** Stop polling. */
export const Stop = 6;
