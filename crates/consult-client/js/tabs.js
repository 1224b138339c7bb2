// Other tabs: BroadcastChannel for new tokens and sign-outs, `storage` events as a fallback.

import { hasWindow } from "./env.js";


export class TabSync {
  constructor(tokenKey, adopt) {
    this.channel = null;
    try {
      if (typeof BroadcastChannel === "function") this.channel = new BroadcastChannel("consult:" + tokenKey);
    } catch {
      this.channel = null;
    }
    const text = (v) => (typeof v === "string" ? v : null);
    if (this.channel) {
      this.channel.onmessage = (event) => {
        const data = event.data;
        if (data?.type === "token") adopt(text(data.token), text(data.expiresAt));
        else if (data?.type === "signout") adopt(null, null);
      };
    }
    this.onStorage = (event) => {
      if (event.key === tokenKey) adopt(event.newValue, null);
    };
    if (hasWindow()) window.addEventListener("storage", this.onStorage);
  }

  announceToken(token, expiresAt) {
    this.#post({ type: "token", token, expiresAt });
  }

  announceSignOut() {
    this.#post({ type: "signout" });
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

