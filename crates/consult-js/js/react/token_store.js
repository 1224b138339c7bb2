// The sign-in and token state of one ConsultClient, for useConsultSession() and useValidToken():
// the client's events kept as one snapshot, and a valid token asked of the client whenever the
// token changes (its single flight: one refresh whatever the number of components). Every
// decision — when a token is due, whether to refresh, what ends a sign-in — is the client's.

import { Observable, Shared } from "./shared.js";

/** The snapshot before the client has said anything. */
const LOADING = Object.freeze({
  loaded: false,
  signedIn: false,
  token: null,
  info: null,
  expiresAt: null,
  refreshing: false,
  lastError: null,
});

/** TokenInfo → the snapshot's fields (expiresAt on this device's clock, for display). */
const fromInfo = (info) => ({
  signedIn: info !== null,
  info,
  expiresAt: info === null ? null : Date.now() + info.expiresInMs,
});

export class TokenStore {
  #client;
  #state = new Observable(LOADING);
  #shared;
  #offs = [];
  /** Only the answer to the latest request for a token is kept. */
  #request = 0;

  constructor(client) {
    this.#client = client;
    this.#shared = new Shared(
      () => this.#attach(),
      () => this.#detach(),
    );
  }

  getSnapshot = () => this.#state.get();

  /** For useSyncExternalStore: listens, and keeps the client's events attached while anyone does. */
  subscribe = (listener) => {
    const stopListening = this.#state.listen(listener);
    const release = this.#shared.retain();
    return () => {
      stopListening();
      release();
    };
  };

  #attach() {
    const client = this.#client;
    const on = (event, handle) => this.#offs.push(client.on(event, handle));
    on("refreshStarted", () => this.#state.update({ refreshing: true }));
    on("tokenRefreshed", (info) => this.#state.update({ refreshing: false, lastError: null, ...fromInfo(info) }));
    on("refreshFailed", (error) => this.#state.update({ refreshing: false, lastError: error }));
    on("sessionExpired", (error) => this.#state.update({ refreshing: false, lastError: error, token: null, ...fromInfo(null) }));
    on("tokenChanged", (info) => {
      // A new sign-in or a sign-out abandons a refresh in flight: no other event ends it.
      this.#state.update({ loaded: true, refreshing: false, ...fromInfo(info), ...(info === null ? { token: null } : {}) });
      if (info !== null) this.#requestToken();
    });
    // The first call loads the stored session (and refreshes it if it is due). A refresh seen
    // before the listeners were last detached is over, or its end was missed: not refreshing.
    if (this.#state.get().refreshing) this.#state.update({ refreshing: false });
    this.#requestToken();
  }

  #detach() {
    for (const off of this.#offs.splice(0)) off();
    this.#request += 1;
  }

  /** Asks the client for a valid token; the answer (or its error) goes into the snapshot. */
  #requestToken() {
    const request = ++this.#request;
    this.#client.getValidToken().then(
      (token) => {
        if (request !== this.#request) return;
        this.#state.update({ loaded: true, token, lastError: null, ...fromInfo(this.#client.tokenInfo()) });
      },
      (error) => {
        if (request !== this.#request) return;
        this.#state.update({ loaded: true, token: null, lastError: error, ...fromInfo(this.#client.tokenInfo()) });
      },
    );
  }
}
