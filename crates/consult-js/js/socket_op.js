// The socket machine's ops (`SocketMachine.next()`), as numbers. Written from `SocketOp` in
// src/socket.rs, which a test checks against this file; one constant each, so that a bundler
// inlines them.

/** Nothing more to do. */
export const None = 0;
/** Open a WebSocket to `text()`. */
export const Open = 1;
/** Close the WebSocket. */
export const Close = 2;
/** Send the text frame `text()`. */
export const Send = 3;
/** Get a token, then call `onToken` with `id()`. */
export const FetchToken = 4;
/** Get a token after a forced refresh, then call `onToken` with `id()`. */
export const FetchRefreshedToken = 5;
/** The state changed to `text()`, because of `extra()`. */
export const State = 6;
/** A server event: `text()` is its JSON array `["name", ...args]`. */
export const Event = 7;
/** Emit `id()` went out: `text()` is its acknowledgement's JSON arguments (absent: none wanted). */
export const EmitDone = 8;
/** Emit `id()` failed with the error code `text()`. */
export const EmitFailed = 9;
/** A frame that could not be read (`text()`; ignored). */
export const ProtocolError = 10;
