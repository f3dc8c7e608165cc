import WebSocket from 'ws';
import { MuteRejected, type MuteClient } from './muteClient.js';

interface Answer {
  type: string;
  requestId?: string;
  status?: number;
  error?: { message?: string };
}

/**
 * Mute/unmute over one persistent WebSocket (subprotocol mutegate.v1.json), the way a backend
 * that mutes at rate would talk to mutegate: `{type:'mute', requestId, callId, participantId}`,
 * answered by a `response` (or an `error`) with the same requestId. Requests are pipelined; the
 * answers are matched by requestId.
 */
export class WsMuteClient implements MuteClient {
  readonly transport = 'ws';
  private nextId = 1;
  private readonly pending = new Map<string, { resolve: () => void; reject: (err: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.onAnswer(data));
    ws.on('close', (code, reason) => this.failAll(new Error(`mute WebSocket closed (${code} ${reason.toString()})`)));
    ws.on('error', (err) => this.failAll(err));
  }

  static async connect(baseUrl: string, token: string): Promise<WsMuteClient> {
    const url = baseUrl.replace(/^http/, 'ws') + '/ws';
    // The token in the Authorization header, as a backend would send it (not in the URL).
    const ws = new WebSocket(url, 'mutegate.v1.json', { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket upgrade answered ${res.statusCode}`)));
    });
    return new WsMuteClient(ws);
  }

  setMuted(callId: string, participantId: string, muted: boolean): Promise<void> {
    const requestId = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.ws.send(JSON.stringify({ type: muted ? 'mute' : 'unmute', requestId, callId, participantId, clientContext: 'native-bench' }));
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.close(1000);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 1000).unref())]);
    this.ws.terminate();
  }

  private onAnswer(data: Buffer): void {
    let answer: Answer;
    try {
      answer = JSON.parse(data.toString('utf8')) as Answer;
    } catch {
      return; // not an answer (this connection subscribes to nothing, so there should be none)
    }
    if (answer.requestId === undefined) return;
    const p = this.pending.get(answer.requestId);
    if (!p) return;
    this.pending.delete(answer.requestId);
    if (answer.type === 'response' && answer.status === 200) p.resolve();
    else p.reject(new MuteRejected(answer.status ?? 0, `WebSocket ${answer.type} ${answer.status}: ${answer.error?.message ?? ''}`));
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
