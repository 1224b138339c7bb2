// The token machine's actions (`TokenMachine.pollAction()`), as numbers. Written from `SessionOp`
// in src/session.rs, which a test checks against this file; one constant each, so that a
// bundler inlines them.

/** Nothing more to do. */
export const None = 0;
/** Read the stored token (`id`: op). */
export const ReadStorage = 1;
/** Store token `text` with expiry text `extra` (`id`: op). */
export const WriteStorage = 2;
/** Remove the stored token (`id`: op). */
export const ClearStorage = 3;
/** Ask for the cross-tab lock (`id`: op). */
export const AcquireLock = 4;
/** Release (or withdraw the request for) lock `id`. */
export const ReleaseLock = 5;
/** POST the refresh endpoint with token `text` (`id`: op). */
export const SendRefresh = 6;
/** Abort refresh request `id`. */
export const AbortRefresh = 7;
/** POST the logout endpoint with token `text` (best effort). */
export const SendLogout = 8;
/** Tell the other tabs about token `text` (expiry text `extra`). */
export const AnnounceToken = 9;
/** Tell the other tabs that the sign-in of token `text` is over. */
export const AnnounceSignOut = 10;
/** Resolve call `id` with token `text` (empty for a sign-out). */
export const Resolve = 11;
/** Reject call `id` with the error code `text` (and `status`). */
export const Reject = 12;
/** Emit `tokenChanged`. */
export const TokenChanged = 13;
/** Emit `tokenRefreshed`. */
export const TokenRefreshed = 14;
/** Emit `refreshFailed` with the error code `text` (and `status`). */
export const RefreshFailed = 15;
/** Emit `sessionExpired` with the error code `text` (and `status`). */
export const SessionExpired = 16;
/** Emit `warning` with the error code `text`. */
export const Warning = 17;
