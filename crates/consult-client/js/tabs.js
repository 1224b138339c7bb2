// Other tabs: BroadcastChannel messages (text the core encodes and decodes) and `storage`
// events of the mirror key, passed to the machine as they are (it decides what they mean); and
// announcements to the other tabs.

import { hasWindow } from "./env.js";
import { CHANNEL_PREFIX } from "./wire.js";

const text = (value) => (typeof value === "string" ? value : undefined);

export class TabSync {
  /**
   * @param {string} tokenKey
   * @param {(message: string) => void} onMessage a channel message, for the core to read
   * @param {(token: string | undefined, expiresAt: string | undefined) => void} onToken
   * @param {(token: string | undefined) => void} onSignOut
   */
  constructor(tokenKey, onMessage, onToken, onSignOut) {
    this.channel = null;
    try {
      if (typeof BroadcastChannel === "function") this.channel = new BroadcastChannel(CHANNEL_PREFIX + tokenKey);
    } catch {
      this.channel = null;
    }
    if (this.channel) {
      this.channel.onmessage = (event) => {
        if (typeof event.data === "string") onMessage(event.data);
      };
    }
    this.onStorage = (event) => {
      if (event.key !== tokenKey) return;
      if (typeof event.newValue === "string") onToken(event.newValue, undefined);
      else onSignOut(text(event.oldValue));
    };
    if (hasWindow()) window.addEventListener("storage", this.onStorage);
  }

  /** Posts a message the core encoded. */
  post(message) {
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
