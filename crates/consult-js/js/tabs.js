// Other tabs: BroadcastChannel messages and `storage` events of the mirror key, passed to the
// machine as they are (it decides what they mean); and announcements to the other tabs.

import { hasWindow } from "./env.js";

const text = (value) => (typeof value === "string" ? value : undefined);

export class TabSync {
  /**
   * @param {string} tokenKey
   * @param {(token: string | undefined, expiresAt: string | undefined) => void} onToken
   * @param {(token: string | undefined) => void} onSignOut
   */
  constructor(tokenKey, onToken, onSignOut) {
    this.channel = null;
    try {
      if (typeof BroadcastChannel === "function") this.channel = new BroadcastChannel("consult:" + tokenKey);
    } catch {
      this.channel = null;
    }
    if (this.channel) {
      this.channel.onmessage = (event) => {
        const data = event.data;
        if (data?.type === "token" && text(data.token)) onToken(data.token, text(data.expiresAt));
        else if (data?.type === "signout") onSignOut(text(data.token));
      };
    }
    this.onStorage = (event) => {
      if (event.key !== tokenKey) return;
      if (typeof event.newValue === "string") onToken(event.newValue, undefined);
      else onSignOut(text(event.oldValue));
    };
    if (hasWindow()) window.addEventListener("storage", this.onStorage);
  }

  announceToken(token, expiresAt) {
    this.#post({ type: "token", token, expiresAt });
  }

  announceSignOut(token) {
    this.#post({ type: "signout", token });
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
