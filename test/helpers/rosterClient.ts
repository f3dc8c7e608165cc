import WebSocket from 'ws';
import { jsonEncoding, type ClientRequestFields } from '../../src/client/index.js';
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
  readonly messages: AnyMessage[] = [];
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

  /** Roster deltas, normalised: { sequence, change, participants: [{ id, isMuted }] }. */
  deltas(): { sequence: number; change: string; participants: { id: string; isMuted: boolean }[] }[] {
    return this.messages.flatMap((m) => {
      if (this.encoding === 'json') {
        if (m['@mutegate.kind'] !== 'delta') return [];
        const data = m.value[0].resourceData;
        return [{ sequence: m['@mutegate.sequence'], change: m['@mutegate.change'], participants: Array.isArray(data) ? data.map((p: AnyMessage) => ({ id: p.id, isMuted: p.isMuted })) : [] }];
      }
      if (!m.delta) return [];
      const changes: Record<string, string> = { JOINED: 'joined', UPDATED: 'updated', LEFT: 'left', CALL_ENDED: 'callEnded', RECONNECT: 'reconnect' };
      return [
        {
          sequence: m.delta.sequence,
          change: changes[m.delta.change] as string,
          participants: (m.delta.participants ?? []).map((p: AnyMessage) => ({ id: p.id, isMuted: p.isMuted ?? false })),
        },
      ];
    });
  }

  /**
   * The `left` deltas with why each participant left, normalised to the JSON values
   * (`@mutegate.leaveReason`; protobuf LEAVE_REASON_MEDIA_LOST → mediaLost).
   */
  leaves(): { sequence: number; participantId: string; reason: string }[] {
    const fromProto: Record<string, string> = {
      LEAVE_REASON_REMOVED: 'removed',
      LEAVE_REASON_LEFT: 'left',
      LEAVE_REASON_REPLACED: 'replaced',
      LEAVE_REASON_CALL_ENDED: 'callEnded',
      LEAVE_REASON_MEDIA_LOST: 'mediaLost',
    };
    return this.messages.flatMap((m) => {
      if (this.encoding === 'json') {
        if (m['@mutegate.kind'] !== 'delta' || m['@mutegate.change'] !== 'left') return [];
        return [{ sequence: m['@mutegate.sequence'], participantId: m.value[0].resourceData[0].id, reason: m['@mutegate.leaveReason'] }];
      }
      if (m.delta?.change !== 'LEFT') return [];
      // An unknown or missing value shows as itself, so a test comparing reasons fails on it.
      return [{ sequence: m.delta.sequence, participantId: m.delta.participants[0].id, reason: fromProto[m.delta.leaveReason] ?? String(m.delta.leaveReason) }];
    });
  }

  /** Sequence number of the latest snapshot. */
  snapshotSequence(): number {
    const snaps = this.messages.filter((m) => m['@mutegate.kind'] === 'snapshot' || m.snapshot);
    const last = snaps.at(-1);
    return last ? (last['@mutegate.sequence'] ?? last.snapshot.sequence ?? 0) : NaN;
  }

  async closed(timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.closeCode !== null, timeoutMs, 'WebSocket close');
  }

  close(): void {
    this.ws.terminate();
  }
}
