/**
 * The big call over the Graph HTTP API, as an application would set it up: create the call (with
 * its forwarding mode), join plain-RTP participants one by one and time each join, delete it.
 * A join the gateway refuses for capacity (503) is an answer, recorded with its time, not an error.
 */
import { MutegateError, MutegateHttp, MutegateTimeout } from '../../../src/client/index.js';
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

export class BigCallClient {
  /** Joins: one answered later than joinTimeoutMs is recorded as a timeout. */
  private readonly joins: MutegateHttp;
  /** Creating and deleting calls. */
  private readonly calls: MutegateHttp;

  constructor(baseUrl: string, token: string, joinTimeoutMs: number) {
    this.joins = new MutegateHttp(baseUrl, { token, timeoutMs: joinTimeoutMs });
    this.calls = new MutegateHttp(baseUrl, { token, timeoutMs: 30_000 });
  }

  /** The call's id and the forwarding the gateway says it applies (undefined: a gateway that does not report it). */
  async createCall(subject: string, forwarding: Forwarding): Promise<{ id: string; forwarding: unknown }> {
    try {
      const { body } = await this.calls.createCall({ subject, forwarding });
      return { id: body.id as string, forwarding: body.forwarding };
    } catch (err) {
      if (err instanceof MutegateError && err.status === 400) throw new IncompatibleGateway(`creating a call with forwarding ${JSON.stringify(forwarding)} answered 400: ${err.message}`);
      throw err;
    }
  }

  async join(callId: string, userId: string, media: JoinMedia): Promise<JoinOutcome> {
    const started = nowMs();
    try {
      const { body } = await this.joins.joinParticipant(callId, { info: { identity: { user: { id: userId } } }, media: { kind: 'rtp', ...media } });
      const send = (body.media as { send?: Address } | undefined)?.send;
      if (!send) throw new Error(`joining answered without media.send: ${JSON.stringify(body)}`);
      return { kind: 'placed', ms: nowMs() - started, participantId: body.id as string, send };
    } catch (err) {
      const ms = nowMs() - started;
      if (err instanceof MutegateTimeout) return { kind: 'timeout', ms };
      if (!(err instanceof MutegateError)) throw err;
      const code = err.innerCode || err.code || 'unknown';
      // 503: no worker has room (mediaCapacityExceeded); 409 callFull: limits.participantsPerCall. Both are capacity answers.
      if (err.status === 503 || (err.status === 409 && code === 'callFull')) return { kind: 'refused', ms, status: err.status, code };
      if (err.status === 400) {
        const hint = media.audioLevelExtensionId !== undefined && /audioLevelExtensionId|additional propert/i.test(err.message) ? ' (this gateway does not take media.audioLevelExtensionId yet: run with --audio-level off)' : '';
        throw new IncompatibleGateway(`joining answered 400: ${err.message}${hint}`);
      }
      throw new Error(`joining answered ${err.status}: ${err.message}`);
    }
  }

  async deleteCall(callId: string): Promise<void> {
    await this.calls.endCall(callId).catch(() => undefined);
  }
}
