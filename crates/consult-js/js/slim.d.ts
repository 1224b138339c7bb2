// consult-client/slim: the package's API without its built-in video session, for applications
// that join the room with the official socket.io-client (`socketIoAuth()`) or have no room.

import type { ConsultClient as ClientWithVideo, VideoSession } from "./consult_client.js";

export * from "./consult_client.js";

/** Keeps a video consultation authenticated: token storage, pre-expiry refresh, authorised calls, polling. */
export declare class ConsultClient extends ClientWithVideo {
  /**
   * Not in consult-client/slim (it throws a TypeError): import "consult-client" for the video
   * session, or join the room with socket.io-client and `socketIoAuth()`.
   * @deprecated not in consult-client/slim
   */
  connectVideoSession(options: never): VideoSession;
}
