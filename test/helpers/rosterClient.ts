import WebSocket from 'ws';
import { jsonEncoding, type ClientRequestFields, type ServerFrame } from '../../src/client/index.js';
import { protoEncoding } from '../../src/client/proto.js';
import { ServerMessage } from '../../src/proto/contract.js';
import { waitFor } from './gateway.js';
import { appToken } from './tokens.js';

export type Encoding = 'json' | 'proto';

/** A decoded server message, whatever the encoding: JSON objects as sent, protobuf as plain objects. */
// `any`: tests inspect arbitrary message fields.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMessage = any;

/**
 * A real `ws` client of the roster endpoint in either encoding, recording every message.
 * Requests are given in the JSON form; the proto client translates them to ClientMessage.
 */
export class RosterClient {
  /** Every frame as it came: JSON objects as sent, protobuf as plain objects (for tests of the wire itself). */
  readonly messages: AnyMessage[] = [];
  /** Every frame decoded by the typed client (src/client), whatever the encoding. */
  readonly frames: ServerFrame[] = [];
  closeCode: number | null = null;
  closeReason = '';
  private nextId = 1;

  private constructor(
    readonly ws: WebSocket,
    readonly encoding: Encoding,
  ) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (encoding === 'json') this.messages.push(JSON.parse(data.toString()));
      else if (isBinary) this.messages.push(ServerMessage.toObject(ServerMessage.decode(data), { longs: Number, enums: String, oneofs: true }));
      else this.messages.push({ unexpectedText: data.toString() });
      // The same frame as the typed client reads it: deltas(), leaves() and snapshotSequence() use these.
      try {
        this.frames.push((encoding === 'json' ? jsonEncoding : protoEncoding).decode(isBinary ? new Uint8Array(data) : data.toString()));
      } catch {
        this.frames.push({ type: 'unknown', frame: data });
      }
    });
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    ws.on('error', () => undefined);
  }

  /** Connects with `token` (default: an application token) in the Authorization header; `null` sends none. */
  static async connect(baseUrl: string, encoding: Encoding, token: string | null | Promise<string> = appToken(), path = '/ws'): Promise<RosterClient> {
    const bearer = await token;
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + path, encoding === 'json' ? 'mutegate.v1.json' : 'mutegate.v1.proto', {
      headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RosterClient(ws, encoding);
  }

  /**
   * Sends a request given in JSON form ({ type, callId, ... }) and returns its requestId. It is
   * encoded by the typed client's encodings (src/client), the one client-side definition of the
   * protocol; what arrives is recorded raw (`messages`), for tests that read the wire itself.
   */
  request(body: Record<string, unknown>): string {
    const requestId = (body.requestId as string | undefined) ?? `r${this.nextId++}`;
    const encoding = this.encoding === 'json' ? jsonEncoding : protoEncoding;
    this.ws.send(encoding.encode({ ...body, requestId } as ClientRequestFields));
    return requestId;
  }

  /** Messages answering (or failing) a request. */
  answersTo(requestId: string): AnyMessage[] {
    return this.messages.filter(
      (m) =>
        m.requestId === requestId ||
        m['@mutegate.requestId'] === requestId ||
        m.snapshot?.requestId === requestId ||
        m.response?.requestId === requestId ||
        m.error?.requestId === requestId,
    );
  }

  async answer(requestId: string, timeoutMs = 5000): Promise<AnyMessage> {
    await waitFor(() => this.answersTo(requestId).length > 0, timeoutMs, `answer to ${requestId}`);
    return this.answersTo(requestId)[0];
  }

  /** Roster deltas as the typed client reads them (either encoding): { sequence, change, participants: [{ id, isMuted }] }. */
  deltas(): { sequence: number; change: string; participants: { id: string; isMuted: boolean }[] }[] {
    return this.frames.flatMap((f) =>
      f.type === 'delta' ? [{ sequence: f.sequence, change: f.change, participants: f.participants.map((p) => ({ id: p.id, isMuted: p.isMuted })) }] : [],
    );
  }

  /** The `left` deltas with why each participant left (an unknown or missing reason shows as "missing"). */
  leaves(): { sequence: number; participantId: string; reason: string }[] {
    return this.frames.flatMap((f) =>
      f.type === 'delta' && f.change === 'left' ? [{ sequence: f.sequence, participantId: f.participants[0]?.id ?? '', reason: f.leaveReason ?? 'missing' }] : [],
    );
  }

  /** Sequence number of the latest snapshot. */
  snapshotSequence(): number {
    const last = this.frames.filter((f) => f.type === 'snapshot').at(-1);
    return last?.type === 'snapshot' ? last.sequence : NaN;
  }

  async closed(timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.closeCode !== null, timeoutMs, 'WebSocket close');
  }

  close(): void {
    this.ws.terminate();
  }
}
