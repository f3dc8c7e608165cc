import { MutegateError, MutegateHttp } from '../../src/client/index.js';
import type { LoadStream } from '../lib/LoadGenerator.js';
import { HopRecorder } from '../lib/hops.js';
import type { MuteClient } from '../lib/muteClient.js';
import { nowMs, type Address } from '../lib/RtpPeer.js';
import type { BenchTarget, Timed } from './target.js';

/**
 * mutegate measured from the outside, like any client would: calls and participants are set up
 * through the Graph HTTP API; mutes go through `client`, over HTTP ('ours') or over one
 * persistent WebSocket ('ours-ws').
 */
export class GatewayTarget implements BenchTarget {
  readonly name: 'ours' | 'ours-ws';
  private calls: string[] = [];
  private loadParticipants: { callId: string; id: string }[] = [];
  private probe: { callId: string; id: string } | null = null;
  /** Mute/unmute requests this target sent, by outcome (checked against /metrics afterwards). */
  readonly issued = { mute: 0, unmute: 0, failed: 0 };
  /** Where the probe's mutes spent their time in the gateway (HTTP only); main.ts takes one summary per run. */
  readonly hops = new HopRecorder();
  /** Set-up and tear-down over the typed client (the mutes go through `client`). */
  private readonly http: MutegateHttp;

  /** `token`: an application token; the gateway must allow application unmute (auth.allowAppRemoteUnmute). */
  constructor(
    readonly baseUrl: string,
    token: string,
    private readonly client: MuteClient,
  ) {
    this.name = client.transport === 'ws' ? 'ours-ws' : 'ours';
    this.http = new MutegateHttp(baseUrl, { token, timeoutMs: 30_000 });
  }

  get probeCallId(): string | undefined {
    return this.probe?.callId;
  }

  async setupLoad(streams: number, loadSockets: Address[], payloadType: number): Promise<LoadStream[]> {
    const result: LoadStream[] = [];
    for (let pair = 0; pair * 2 < streams; pair++) {
      const callId = await this.createCall(`load ${pair}`);
      for (let k = 0; k < 2 && pair * 2 + k < streams; k++) {
        const index = pair * 2 + k;
        const socket = index % loadSockets.length;
        const ssrc = 100_000 + index;
        const p = await this.join(callId, `load-${index}`, { kind: 'rtp', payloadType, ssrc, receive: loadSockets[socket] });
        this.loadParticipants.push({ callId, id: p.id });
        result.push({ to: p.media.send, ssrc, payloadType, socket });
      }
    }
    return result;
  }

  async setupProbe(probe: Address, receivers: Address[], ssrc: number, payloadType: number): Promise<Address> {
    const callId = await this.createCall('probe');
    const p = await this.join(callId, 'probe', { kind: 'rtp', payloadType, ssrc, receive: probe });
    this.probe = { callId, id: p.id };
    for (const [i, receiver] of receivers.entries()) {
      await this.join(callId, `probe-receiver-${i}`, { kind: 'rtp', payloadType, ssrc: ssrc + 1 + i, receive: receiver });
    }
    return p.media.send;
  }

  muteProbe(): Promise<Timed> {
    const probe = this.probe as { callId: string; id: string };
    return this.toggleProbe(probe.callId, probe.id, true);
  }

  unmuteProbe(): Promise<Timed> {
    const probe = this.probe as { callId: string; id: string };
    return this.toggleProbe(probe.callId, probe.id, false);
  }

  /** The probe's mutes, one at a time: each acknowledgement's Server-Timing goes to `hops`. */
  private async toggleProbe(callId: string, participantId: string, mute: boolean): Promise<Timed> {
    const timed = await this.toggle(callId, participantId, mute);
    this.hops.record(this.client.lastServerTiming, timed.ackAt - timed.requestAt);
    return timed;
  }

  async setLoadMuted(i: number, muted: boolean): Promise<void> {
    const p = this.loadParticipants[i % this.loadParticipants.length] as { callId: string; id: string };
    await this.toggle(p.callId, p.id, muted);
  }

  async teardown(): Promise<void> {
    // Checked: calls left behind would count against the worker's budget in the next step (a
    // full profile once failed with 503 mediaCapacityExceeded that way).
    for (const callId of this.calls.splice(0)) {
      try {
        await this.http.endCall(callId);
      } catch (err) {
        if (!(err instanceof MutegateError && err.status === 404)) throw err;
      }
    }
    this.loadParticipants = [];
    this.probe = null;
  }

  async close(): Promise<void> {
    await this.teardown();
    await this.client.close();
  }

  private async toggle(callId: string, participantId: string, mute: boolean): Promise<Timed> {
    const requestAt = nowMs();
    try {
      await this.client.setMuted(callId, participantId, mute);
    } catch (err) {
      this.issued.failed++;
      throw err;
    }
    const ackAt = nowMs();
    this.issued[mute ? 'mute' : 'unmute']++;
    return { requestAt, ackAt };
  }

  private async createCall(subject: string): Promise<string> {
    const { body } = await this.http.createCall({ subject: `native-bench ${subject}` });
    this.calls.push(body.id as string);
    return body.id as string;
  }

  private async join(callId: string, userId: string, media: Record<string, unknown>): Promise<{ id: string; media: { send: Address } }> {
    const { body } = await this.http.joinParticipant(callId, { info: { identity: { user: { id: userId } } }, media });
    return body as unknown as { id: string; media: { send: Address } };
  }
}
