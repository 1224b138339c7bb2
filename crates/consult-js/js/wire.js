// The wire: the names and paths the driver shares with the server and with the other tabs.
// Written from consult-core's `wire` module, which a test checks against this file by name and
// value; one constant each, so that a bundler inlines them.

/** `POST`: a new token for the bearer token. */
export const REFRESH_PATH = "/api/video/auth/refresh-token";
/** `POST`: ends the sign-in of the bearer token. */
export const LOGOUT_PATH = "/api/video/auth/logout";
/** `GET` + the session id as one percent-encoded segment. */
export const SESSIONS_PATH = "/api/video/sessions/";
/** The methods: POST for refresh and logout, GET for a session (and a call naming none). */
export const POST = "POST";
export const GET = "GET";
/** The request header carrying the token, as `BEARER` + the token. */
export const AUTHORIZATION = "Authorization";
export const BEARER = "Bearer ";
/** The request header of a conditional poll. */
export const IF_NONE_MATCH = "If-None-Match";
/** Response headers the machines read. */
export const ETAG = "etag";
export const RETRY_AFTER = "retry-after";
export const DATE = "date";
/** The seed's localStorage keys (the defaults). */
export const TOKEN_KEY = "authToken";
export const EXPIRES_KEY = "tokenExpiresAt";
/** IndexedDB: the database, its version, its object store, a record's fields. */
export const IDB_DATABASE = "consult";
export const IDB_VERSION = 1;
export const IDB_STORE = "tokens";
export const FIELD_TOKEN = "token";
export const FIELD_EXPIRES_AT = "expiresAt";
/** The Web Lock's and the BroadcastChannel's name prefixes (the token key follows). */
export const LOCK_PREFIX = "consult-refresh:";
export const CHANNEL_PREFIX = "consult:";
/** A cross-tab message: `{[MESSAGE_KIND]: KIND_TOKEN, [FIELD_TOKEN], [FIELD_EXPIRES_AT]?, [FIELD_REPLACES]?}` or
 * `{[MESSAGE_KIND]: KIND_SIGNOUT, [FIELD_TOKEN]?}` (core's `wire::TabMessage`). */
export const MESSAGE_KIND = "type";
export const KIND_TOKEN = "token";
export const KIND_SIGNOUT = "signout";
/** The field of a token message naming the token it replaces. */
export const FIELD_REPLACES = "replaces";
