// One consultation session polled for every component that shows it: useSessionDetails(). The
// store runs one `client.pollSession()` while at least one component is mounted and the app is in
// the foreground, and keeps what the poller reported (the session, the last error, the end). When
// and how to poll (never overlapping, backoff, ETag, what ends it) is the poller's.

import { Observable, Shared } from "./shared.js";

const IDLE = Object.freeze({ data: null, error: null, ended: false, endReason: null, paused: false });

export class SessionStore {
  #client;
  #sessionId;
  #intervalMs;
  #foreground;
  #state = new Observable(IDLE);
  #shared;
  #poller = null;
  #stopForeground = null;

  /**
   * @param client the ConsultClient
   * @param sessionId the session polled
   * @param intervalMs the first component's interval (shared: one poller per session)
   * @param foreground an Observable `{ active }`: polling pauses while it is false
   */
  constructor(client, sessionId, intervalMs, foreground) {
    this.#client = client;
    this.#sessionId = sessionId;
    this.#intervalMs = intervalMs;
    this.#foreground = foreground;
    this.#shared = new Shared(
      () => this.#start(),
      () => this.#stop(),
    );
  }

  getSnapshot = () => this.#state.get();

  subscribe = (listener) => {
    const stopListening = this.#state.listen(listener);
    const release = this.#shared.retain();
    return () => {
      stopListening();
      release();
    };
  };

  #start() {
    this.#state.update(IDLE);
    this.#stopForeground = this.#foreground.listen(() => this.#follow());
    this.#follow();
  }

  #stop() {
    this.#stopForeground?.();
    this.#stopForeground = null;
    this.#halt();
  }

  /** Polls while the app is in the foreground and the session has not ended. */
  #follow() {
    const active = this.#foreground.get().active;
    if (!active) {
      if (this.#poller) this.#halt();
      if (!this.#state.get().paused) this.#state.update({ paused: true });
      return;
    }
    if (this.#state.get().paused) this.#state.update({ paused: false });
    if (this.#poller || this.#state.get().ended) return;
    const poller = this.#client.pollSession(this.#sessionId, {
      intervalMs: this.#intervalMs,
      onUpdate: (data) => this.#state.update({ data, error: null }),
      onError: (error) => this.#state.update({ error }),
      onEnd: (reason) => {
        if (this.#poller !== poller) return; // stopped by this store: paused or unmounted
        this.#poller = null;
        this.#state.update({ ended: true, endReason: reason });
      },
    });
    this.#poller = poller;
  }

  /** Stops the poller (aborting its request in flight) without ending the session's state. */
  #halt() {
    const poller = this.#poller;
    this.#poller = null;
    poller?.stop();
  }
}
