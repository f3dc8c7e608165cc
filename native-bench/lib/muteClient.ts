/** How the bench sends mutegate a mute or unmute: over HTTP (the Graph route) or over a WebSocket. */
export interface MuteClient {
  /** 'http' or 'ws': shown in the target's name. */
  readonly transport: 'http' | 'ws';
  /** Resolves when the gateway acknowledged (200 / a response frame); rejects with its status otherwise. */
  setMuted(callId: string, participantId: string, muted: boolean): Promise<void>;
  /** The Server-Timing header of the last acknowledgement, when the transport has one (HTTP). */
  readonly lastServerTiming?: string | undefined;
  close(): Promise<void>;
}

/** A non-200 answer to a mute or unmute. */
export class MuteRejected extends Error {
  override name = 'MuteRejected';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
