// Other tabs: BroadcastChannel messages (core's `wire::TabMessage`, by the names in wire.js) and
// `storage` events of the mirror key, passed to the machine as they are (it decides what they
// mean); and announcements to the other tabs.

import { hasWindow } from "./env.js";
import { CHANNEL_PREFIX, FIELD_EXPIRES_AT, FIELD_REPLACES, FIELD_TOKEN, KIND_SIGNOUT, KIND_TOKEN, MESSAGE_KIND } from "./wire.js";

const text = (value) => (typeof value === "string" ? value : undefined);

export class TabSync {
  /**
   * @param {string} tokenKey
   * @param {(token: string | undefined, expiresAt: string | undefined, replaces: string | undefined) => void} onToken
   * @param {(token: string | undefined) => void} onSignOut
   */
  constructor(tokenKey, onToken, onSignOut) {
    this.channel = null;
    try {
      if (typeof BroadcastChannel === "function") this.channel = new BroadcastChannel(CHANNEL_PREFIX + tokenKey);
    } catch {
      this.channel = null;
    }
    if (this.channel) {
      this.channel.onmessage = ({ data }) => {
        const token = text(data?.[FIELD_TOKEN]);
        if (data?.[MESSAGE_KIND] === KIND_TOKEN && token) onToken(token, text(data[FIELD_EXPIRES_AT]), text(data[FIELD_REPLACES]));
        else if (data?.[MESSAGE_KIND] === KIND_SIGNOUT) onSignOut(token);
      };
    }
    this.onStorage = (event) => {
      if (event.key !== tokenKey) return;
      // The old value is the token this write replaced.
      if (typeof event.newValue === "string") onToken(event.newValue, undefined, text(event.oldValue));
      else onSignOut(text(event.oldValue));
    };
    if (hasWindow()) window.addEventListener("storage", this.onStorage);
  }

  announceToken(token, expiresAt, replaces) {
    this.#post({ [MESSAGE_KIND]: KIND_TOKEN, [FIELD_TOKEN]: token, [FIELD_EXPIRES_AT]: expiresAt, [FIELD_REPLACES]: replaces });
  }

  announceSignOut(token) {
    this.#post({ [MESSAGE_KIND]: KIND_SIGNOUT, [FIELD_TOKEN]: token });
  }

  #post(message) {
    try {
      this.channel?.postMessage(message);
    } catch {
      // A closed channel: the storage event still reaches the other tabs.
    }
  }

  close() {
    if (this.channel) {
      this.channel.onmessage = null;
      this.channel.close();
      this.channel = null;
    }
    if (hasWindow()) window.removeEventListener("storage", this.onStorage);
  }
}
