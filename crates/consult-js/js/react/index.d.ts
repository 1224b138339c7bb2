// Types of consult-client/react: React hooks over one ConsultClient (React 18 or 19, web and
// React Native). Hand-written; scripts/test-package.sh checks them with tsc.

import type { ReactNode, ReactElement } from "react";
import type {
  ConsultClient,
  ConsultError,
  Participant,
  PollEndReason,
  SessionDetails,
  SessionStatusName,
  TokenInfo,
  VideoSessionOptions,
  VideoSessionState,
} from "../consult_client.js";

/** What `appState` needs: React Native's `AppState`. */
export interface AppStateLike {
  readonly currentState?: string | null;
  addEventListener(type: "change", listener: (state: string) => void): { remove(): void } | void;
  removeEventListener?(type: "change", listener: (state: string) => void): void;
}

export interface ConsultProviderProps {
  /** The app's one client (the provider never disposes it). */
  client: ConsultClient;
  /**
   * React Native's `AppState`: `client.wake()` when the app becomes `active`, session polling
   * paused while it is in the `background`.
   */
  appState?: AppStateLike | undefined;
  /** Whether the device is online (e.g. NetInfo's `isConnected`): `client.wake()` when it becomes true again. */
  isConnected?: boolean | null | undefined;
  children?: ReactNode | undefined;
}

/** Makes `client` available to the hooks below it. */
export function ConsultProvider(props: ConsultProviderProps): ReactElement;

/** The client of the nearest `ConsultProvider` (throws outside one). */
export function useConsultClient(): ConsultClient;

/** The sign-in and token state, as the client reports it. */
export interface ConsultSessionState {
  /** False until the client has answered the first request for a token (storage loaded). */
  readonly loaded: boolean;
  readonly signedIn: boolean;
  /** The last valid token the client gave (`getValidToken()`), or null. */
  readonly token: string | null;
  readonly info: TokenInfo | null;
  /** When the current token expires, on this device's clock (Unix ms), or null. */
  readonly expiresAt: number | null;
  /** This client has a refresh request in flight. */
  readonly refreshing: boolean;
  /** The last error of a refresh or of a request for a token (cleared by the next token). */
  readonly lastError: ConsultError | null;
}
export function useConsultSession(): ConsultSessionState;

export interface ValidTokenState {
  readonly token: string | null;
  readonly error: ConsultError | null;
  readonly loading: boolean;
}
/** A valid token, asked again whenever the token changes (one refresh for every component). */
export function useValidToken(): ValidTokenState;

export interface SessionDetailsOptions {
  /** From the end of one poll to the start of the next (default 5000). The first component's value applies. */
  intervalMs?: number | undefined;
}
export interface SessionDetailsState {
  readonly data: SessionDetails | null;
  /** The last poll's error (polling goes on with backoff); cleared by the next update. */
  readonly error: ConsultError | null;
  /** Polling is over: the session ended, was cancelled or is gone, or the sign-in is over. */
  readonly ended: boolean;
  readonly endReason: PollEndReason | null;
  /** Paused while the app is in the background (React Native, with `appState`). */
  readonly paused: boolean;
}
/** The session, polled once for every component that shows it; nothing when `sessionId` is null. */
export function useSessionDetails(sessionId: string | null | undefined, options?: SessionDetailsOptions): SessionDetailsState;

/** connectVideoSession's options but `sessionId`; nothing connects while `roomId`, `userId` or `role` is missing. */
export interface VideoRoomOptions {
  roomId?: string | undefined;
  userId?: string | undefined;
  role?: string | undefined;
  url?: string | undefined;
  namespace?: string | undefined;
  reconnection?: VideoSessionOptions["reconnection"] | undefined;
}
export interface VideoRoomState {
  /** The video session's state; `idle` before it is opened (missing options), `closed` after. */
  readonly state: VideoSessionState | "idle";
  readonly reason: string | null;
  /** Who is in the room: from `joined_room`, then `participant_joined` / `participant_left`. */
  readonly participants: readonly Participant[];
  /** The last `session_status` pushed to the room. */
  readonly sessionStatus: SessionStatusName | null;
  /** The last `error` event of the server. */
  readonly error: { code: string; message: string } | null;
  /** Sends an event in the room (rejects when not connected; with `ackTimeoutMs`, resolves with the acknowledgement). */
  emit(event: string, data?: unknown, ackTimeoutMs?: number): Promise<unknown>;
}
/**
 * The session's video room, joined while a component uses it (one connection for all of them)
 * and left when the last unmounts. Nothing connects until `roomId`, `userId` and `role` are given.
 */
export function useVideoRoom(sessionId: string | null | undefined, options: VideoRoomOptions): VideoRoomState;
