import WebSocket from 'ws';
import { ClientMessage, ServerMessage } from '../../src/proto/contract.js';
import { nowMs } from './RtpPeer.js';

export type Encoding = 'json' | 'proto';

export interface FanoutSamples {
  latencyMs: Record<Encoding, number[]>;
  bytes: Record<Encoding, number[]>;
  missing: number;
}

interface Subscriber {
  encoding: Encoding;
  ws: WebSocket;
  /** Arrival time and size of every roster delta. */
  deltas: { at: number; bytes: number }[];
}

/**
 * S WebSocket subscribers of one call, half JSON and half protobuf, each recording when every
 * roster delta arrived and how big it was. Runs in its own thread (fanoutThreadWorker.ts) so
 * that handling S updates never delays the main thread's timing of the HTTP 200.
 */
export class SubscriberSet {
  private constructor(private readonly subscribers: Subscriber[]) {}

  static async connect(baseUrl: string, callId: string, count: number, token: string): Promise<SubscriberSet> {
    const url = baseUrl.replace(/^http/, 'ws') + `/ws?access_token=${encodeURIComponent(token)}`;
    const subscribers: Subscriber[] = [];
    for (let i = 0; i < count; i++) {
      const encoding: Encoding = i % 2 === 0 ? 'json' : 'proto';
      const ws = new WebSocket(url, encoding === 'json' ? 'mutegate.v1.json' : 'mutegate.v1.proto');
      const sub: Subscriber = { encoding, ws, deltas: [] };
      let subscribed!: () => void;
      const ready = new Promise<void>((resolve) => (subscribed = resolve));
      ws.on('message', (data: Buffer, isBinary) => {
        const at = nowMs();
        if (encoding === 'json' && !isBinary) {
          const kind = JSON.parse(data.toString())['@mutegate.kind'];
          if (kind === 'snapshot') subscribed();
          else if (kind === 'delta') sub.deltas.push({ at, bytes: data.length });
        } else if (encoding === 'proto' && isBinary) {
          const message = ServerMessage.decode(data) as unknown as { snapshot?: unknown; delta?: unknown };
          if (message.snapshot) subscribed();
          else if (message.delta) sub.deltas.push({ at, bytes: data.length });
        }
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      if (encoding === 'json') ws.send(JSON.stringify({ type: 'subscribe', requestId: 's', callId }));
      else ws.send(ClientMessage.encode(ClientMessage.fromObject({ requestId: 's', subscribe: { callId } })).finish());
      await ready;
      subscribers.push(sub);
    }
    return new SubscriberSet(subscribers);
  }

  /**
   * For the k-th measured change (in order) acknowledged at `ackAt[k]`: per encoding, arrival at
   * each subscriber minus ackAt (negative: the update beat the HTTP 200), and bytes per update.
   */
  collect(ackAt: number[]): FanoutSamples {
    const latencyMs: Record<Encoding, number[]> = { json: [], proto: [] };
    const bytes: Record<Encoding, number[]> = { json: [], proto: [] };
    let missing = 0;
    for (const s of this.subscribers) {
      ackAt.forEach((ack, k) => {
        const delta = s.deltas[k];
        if (!delta) {
          missing++;
          return;
        }
        latencyMs[s.encoding].push(delta.at - ack);
        bytes[s.encoding].push(delta.bytes);
      });
    }
    return { latencyMs, bytes, missing };
  }

  close(): void {
    for (const s of this.subscribers) s.ws.terminate();
  }
}
