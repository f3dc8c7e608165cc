/**
 * The big call over the Graph HTTP API, as an application would set it up: create the call (with
 * its forwarding mode), join plain-RTP participants one by one and time each join, delete it.
 * A join the gateway refuses for capacity (503) is an answer, recorded with its time, not an error.
 */
import { nowMs, type Address } from '../RtpPeer.js';

export type Forwarding = { mode: 'all' } | { mode: 'speakers'; maxSpeakers: number; silenceDbov: number };

export type JoinOutcome =
  | { kind: 'placed'; ms: number; participantId: string; send: Address }
  | { kind: 'refused'; ms: number; status: number; code: string }
  | { kind: 'timeout'; ms: number };

/** The gateway rejected what the bench sends (400): the profile cannot run against it as configured. */
export class IncompatibleGateway extends Error {
  override name = 'IncompatibleGateway';
}

export interface JoinMedia {
  payloadType: number;
  ssrc: number;
  receive: Address;
  /** Sent only when set (the gateway's schema rejects unknown media properties). */
  audioLevelExtensionId?: number;
}

interface GraphErrorBody {
  error?: { code?: string; message?: string; innerError?: { code?: string } };
}

export class BigCallClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    /** A join not answered within this is recorded as a timeout. */
    private readonly joinTimeoutMs: number,
  ) {}

  private get headers(): Record<string, string> {
    return { 'content-type': 'application/json', authorization: `Bearer ${this.token}` };
  }

  /** The call's id and the forwarding the gateway says it applies (undefined: a gateway that does not report it). */
  async createCall(subject: string, forwarding: Forwarding): Promise<{ id: string; forwarding: unknown }> {
    const res = await fetch(`${this.baseUrl}/communications/calls`, { method: 'POST', headers: this.headers, body: JSON.stringify({ subject, forwarding }) });
    const body = (await res.json()) as { id?: string; forwarding?: unknown } & GraphErrorBody;
    if (res.status === 400) throw new IncompatibleGateway(`creating a call with forwarding ${JSON.stringify(forwarding)} answered 400: ${body.error?.message ?? JSON.stringify(body)}`);
    if (res.status !== 201 || !body.id) throw new Error(`POST /communications/calls answered ${res.status}: ${JSON.stringify(body)}`);
    return { id: body.id, forwarding: body.forwarding };
  }

  async join(callId: string, userId: string, media: JoinMedia): Promise<JoinOutcome> {
    const started = nowMs();
    const payload = { info: { identity: { user: { id: userId } } }, media: { kind: 'rtp', ...media } };
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}/communications/calls/${callId}/participants`, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.joinTimeoutMs),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') return { kind: 'timeout', ms: nowMs() - started };
      throw err;
    }
    const body = (await res.json()) as { id?: string; media?: { send?: Address } } & GraphErrorBody;
    const ms = nowMs() - started;
    if (res.status === 201 && body.id && body.media?.send) return { kind: 'placed', ms, participantId: body.id, send: body.media.send };
    const code = body.error?.innerError?.code ?? body.error?.code ?? 'unknown';
    // 503: no worker has room (mediaCapacityExceeded); 409 callFull: limits.participantsPerCall. Both are capacity answers.
    if (res.status === 503 || (res.status === 409 && code === 'callFull')) return { kind: 'refused', ms, status: res.status, code };
    if (res.status === 400) {
      const message = body.error?.message ?? JSON.stringify(body);
      const hint = media.audioLevelExtensionId !== undefined && /audioLevelExtensionId|additional propert/i.test(message) ? ' (this gateway does not take media.audioLevelExtensionId yet: run with --audio-level off)' : '';
      throw new IncompatibleGateway(`joining answered 400: ${message}${hint}`);
    }
    throw new Error(`joining answered ${res.status}: ${JSON.stringify(body)}`);
  }

  async deleteCall(callId: string): Promise<void> {
    await fetch(`${this.baseUrl}/communications/calls/${callId}`, { method: 'DELETE', headers: this.headers, signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
  }
}
