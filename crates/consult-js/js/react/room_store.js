// One video room (the Socket.IO room of a session) for every component that shows it:
// useVideoRoom(). The store holds one `client.connectVideoSession()` while at least one
// component is mounted, disconnects it when the last one goes, and keeps what the room reported:
// its state, who is in it, the last status pushed and the last server error. Connecting, the
// token of each CONNECT and join, refreshes and reconnects are the video session's.

import { Observable, Shared } from "./shared.js";

const IDLE = Object.freeze({
  state: "idle",
  reason: null,
  participants: [],
  sessionStatus: null,
  error: null,
});

/** `list` without `user_id`'s entry, then with `participant` (if given) at the end. */
const withParticipant = (list, userId, participant) => [
  ...list.filter((p) => p.user_id !== userId),
  ...(participant ? [{ user_id: participant.user_id, role: participant.role, name: participant.name }] : []),
];

export class RoomStore {
  #client;
  #options;
  #state = new Observable(IDLE);
  #shared;
  #room = null;

  /** @param options connectVideoSession's options (sessionId, roomId, userId, role, url?) */
  constructor(client, options) {
    this.#client = client;
    this.#options = options;
    this.#shared = new Shared(
      () => this.#connect(),
      () => this.#disconnect(),
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

  /** Sends an event in the room (the video session's emit: rejects when not connected). */
  emit = (event, data, ackTimeoutMs) => {
    if (!this.#room) return Promise.reject(new Error("useVideoRoom: the room is not open"));
    return this.#room.emit(event, data, ackTimeoutMs);
  };

  #connect() {
    this.#state.update(IDLE);
    const room = this.#client.connectVideoSession(this.#options);
    this.#room = room;
    // VideoSession.on has no unsubscribe: each handler checks that its room is still this store's.
    const on = (event, handle) =>
      room.on(event, (payload) => {
        if (this.#room === room) handle(payload);
      });
    on("state", ({ state, reason }) => this.#state.update({ state, reason }));
    on("joined_room", ({ participants }) => this.#state.update({ participants: Array.isArray(participants) ? participants : [] }));
    on("participant_joined", (p) => this.#state.update({ participants: withParticipant(this.#state.get().participants, p.user_id, p) }));
    on("participant_left", (p) => this.#state.update({ participants: withParticipant(this.#state.get().participants, p.user_id) }));
    on("session_status", ({ status }) => this.#state.update({ sessionStatus: status }));
    on("error", (error) => this.#state.update({ error }));
  }

  #disconnect() {
    const room = this.#room;
    this.#room = null;
    room?.disconnect();
    this.#state.update({ state: "closed", reason: "unmounted" });
  }
}
