// The token machine's input kinds (`TokenMachine.feed(now, mono, kind, …)`), as numbers. Written from
// `SessionInput` in src/session.rs, which a test checks against this file; one constant each,
// so that a bundler inlines them.

/** The application wants a valid token (`id`: call). */
export const GetToken = 1;
/** A request sent with the token `text` was refused (`id`: call). */
export const TokenRefused = 2;
/** The application wants a new token now (`id`: call). */
export const ForceRefresh = 3;
/** Sign-in: `text` token, `extra` expires_at text, `number` expires_in (`id`: call). */
export const SetSession = 4;
/** Sign-out (`id`: call). */
export const SignOut = 5;
/** Storage read (`id`: op): `text` token, `extra` expiry text. */
export const StorageRead = 6;
/** A storage write or clear worked (`id`: op). */
export const StorageDone = 7;
/** A storage operation threw (`id`: op). */
export const StorageFailed = 8;
/** The lock is held (`id`: op). */
export const LockGranted = 9;
/** No lock in this environment (`id`: op). */
export const LockUnavailable = 10;
/** Refresh answered (`id`: op): `number` status, `text` body, `extra` the `Date` header. The `Retry-After` header comes first through [`TokenMachine::set_retry_after`]. */
export const RefreshAnswered = 11;
/** The refresh request failed to send or broke (`id`: op). */
export const RefreshNetworkError = 12;
/** The refresh answer's body could not be read (`id`: op). */
export const RefreshUnreadable = 13;
/** Another tab announced the token `text` (expiry text `extra`). */
export const PeerToken = 14;
/** Another tab signed out the token `text` (absent: it did not say which). */
export const PeerSignedOut = 15;
/** The page may have slept (visible, online, focus). */
export const Wake = 16;
/** Stop background work. */
export const Dispose = 17;
/** The timer set to [`TokenMachine::poll_timeout`] fired. */
export const Timeout = 18;
