import type { Socket } from 'node:net';
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
  /** Arrival time and frame of every message after the snapshot; classified only in collect(). */
  frames: { at: number; data: Buffer }[];
}

function isSnapshot(encoding: Encoding, data: Buffer): boolean {
  if (encoding === 'json') return (JSON.parse(data.toString()) as Record<string, unknown>)['@mutegate.kind'] === 'snapshot';
  return Boolean((ServerMessage.decode(data) as unknown as { snapshot?: unknown }).snapshot);
}

/** Whether a frame that came after the snapshot is a roster delta (not, say, an error). */
function isDelta(encoding: Encoding, data: Buffer): boolean {
  if (encoding === 'json') return (JSON.parse(data.toString()) as Record<string, unknown>)['@mutegate.kind'] === 'delta';
  return Boolean((ServerMessage.decode(data) as unknown as { delta?: unknown }).delta);
}

/**
 * WebSocket subscribers of one call (even global index: JSON, odd: protobuf), each recording when
 * every frame arrived. The arrival time is taken when the socket's bytes are read (before ws
 * parses them) and the message handler only keeps the frame: with hundreds of subscribers per
 * thread, parsing or decoding on arrival would delay the timestamps of the subscribers read after
 * it, and the bench would measure itself. Runs in fan-out threads (fanoutThreadWorker.ts) so
 * that the main thread's timing of the HTTP 200 is not delayed either.
 */
export class SubscriberSet {
  private constructor(private readonly subscribers: Subscriber[]) {}

  /** `firstIndex`: the global index of this set's first subscriber (decides the encodings). */
  static async connect(baseUrl: string, callId: string, count: number, token: string, firstIndex = 0): Promise<SubscriberSet> {
    const url = baseUrl.replace(/^http/, 'ws') + `/ws?access_token=${encodeURIComponent(token)}`;
    const subscribers: Subscriber[] = [];
    for (let i = 0; i < count; i++) {
      const encoding: Encoding = (firstIndex + i) % 2 === 0 ? 'json' : 'proto';
      const ws = new WebSocket(url, encoding === 'json' ? 'mutegate.v1.json' : 'mutegate.v1.proto', { perMessageDeflate: false });
      const sub: Subscriber = { encoding, ws, frames: [] };
      let subscribed = false;
      let onSnapshot!: () => void;
      const ready = new Promise<void>((resolve) => (onSnapshot = resolve));
      /** When the chunk that held the message being delivered was read from the socket. */
      let readAt = 0;
      ws.on('message', (data: Buffer) => {
        if (subscribed) {
          sub.frames.push({ at: readAt, data });
          return;
        }
        // Before the snapshot: the only frame expected is the snapshot itself.
        if (isSnapshot(encoding, data)) {
          subscribed = true;
          onSnapshot();
        }
      });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      // `_socket`: ws's underlying TCP socket (not public API); our listener runs before ws's own.
      ((ws as unknown as { _socket: Socket })._socket).prependListener('data', () => (readAt = nowMs()));
      if (encoding === 'json') ws.send(JSON.stringify({ type: 'subscribe', requestId: 's', callId }));
      else ws.send(ClientMessage.encode(ClientMessage.fromObject({ requestId: 's', subscribe: { callId } })).finish());
      await ready;
      subscribers.push(sub);
    }
    return new SubscriberSet(subscribers);
  }

  /**
   * For the k-th measured change (in order) acknowledged at `ackAt[k]`: per encoding, arrival at
   * each subscriber minus ackAt (negative: the update beat the acknowledgement), and bytes per update.
   */
  collect(ackAt: number[]): FanoutSamples {
    const latencyMs: Record<Encoding, number[]> = { json: [], proto: [] };
    const bytes: Record<Encoding, number[]> = { json: [], proto: [] };
    let missing = 0;
    for (const s of this.subscribers) {
      const deltas = s.frames.filter((f) => isDelta(s.encoding, f.data));
      ackAt.forEach((ack, k) => {
        const delta = deltas[k];
        if (!delta) {
          missing++;
          return;
        }
        latencyMs[s.encoding].push(delta.at - ack);
        bytes[s.encoding].push(delta.data.length);
      });
    }
    return { latencyMs, bytes, missing };
  }

  close(): void {
    for (const s of this.subscribers) s.ws.terminate();
  }
}
