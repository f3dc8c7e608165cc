import WebSocket from 'ws';
import { MutegateError, MutegateSocket, type WebSocketConstructor } from '../../src/client/index.js';
import { MuteRejected, type MuteClient } from './muteClient.js';

/**
 * Mute/unmute over one persistent WebSocket (JSON encoding), the way a backend that mutes at rate
 * would talk to mutegate, through mutegate's typed client (src/client): requests are pipelined
 * and their answers matched by requestId.
 */
export class WsMuteClient implements MuteClient {
  readonly transport = 'ws';

  private constructor(private readonly socket: MutegateSocket) {}

  static async connect(baseUrl: string, token: string): Promise<WsMuteClient> {
    // The token in the Authorization header, as a backend would send it (not in the URL).
    const socket = await MutegateSocket.connect(baseUrl, { token, WebSocket: WebSocket as unknown as WebSocketConstructor, requestTimeoutMs: 60_000 });
    return new WsMuteClient(socket);
  }

  async setMuted(callId: string, participantId: string, muted: boolean): Promise<void> {
    try {
      await (muted ? this.socket.mute(callId, participantId, 'native-bench') : this.socket.unmute(callId, participantId, 'native-bench'));
    } catch (err) {
      if (err instanceof MutegateError) throw new MuteRejected(err.status, `WebSocket error ${err.status}: ${err.message}`);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (!this.socket.open) return;
    const closed = new Promise<void>((resolve) => this.socket.on('close', () => resolve()));
    this.socket.close(1000);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
  }
}
