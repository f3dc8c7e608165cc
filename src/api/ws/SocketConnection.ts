import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { CommandContext } from '../../commands/context.js';
import { subscribeRoster } from '../../commands/roster.js';
import { hostCall } from '../../commands/scope.js';
import { joinWebRtc, routerRtpCapabilities } from '../../commands/webrtc.js';
import { isCallRequest, runCallRequest } from './callRequests.js';
import type { Principal } from '../../control/Principal.js';
import { DomainError } from '../../control/errors.js';
import type { Participant } from '../../control/Participant.js';
import type { ParticipantRef } from '../../control/Policy.js';
import { describeDomainError } from '../graph/errors.js';
import type { WireCodec } from './codec.js';
import { FrameError, type ClientRequest, type ServerEvent } from './protocol.js';
import type { WebRtcPresence } from './WebRtcPresence.js';

/** Close codes of this protocol (4000–4999 is the application range). */
export const CLOSE_SLOW_SUBSCRIBER = 4008;
export const CLOSE_UNAUTHENTICATED = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_GOING_AWAY = 1001;
/** RFC 6455 policy violation: more frames than limits.requestsPerSecond allows. */
export const CLOSE_TOO_MANY_REQUESTS = 1008;
/** Offers whose resumeConsumer is not counted, at most (a client that never resumes builds no stock of free frames). */
const MAX_RESUME_CREDITS = 1000;

export interface ConnectionLimits {
  /** Bytes the server may hold unsent for one connection before dropping it as too slow. */
  maxBufferedBytes: number;
  /** After the 4008 close frame is queued, how long a stalled peer gets before the socket is cut. */
  slowCloseGraceMs: number;
}

/** What a connection needs from the hub that owns the subscriptions. */
export interface SubscriptionRegistry {
  /** `snapshotSequence`: the sequence of the snapshot being sent; later changes follow as deltas. */
  subscribe(connection: SocketConnection, callId: string, snapshotSequence: number): void;
  unsubscribe(connection: SocketConnection, callId: string): void;
  /** The connection is closing: it gets no more events and no longer counts as open. */
  release(connection: SocketConnection): void;
  /** Remembers which connection joined a WebRTC participant (to tell it to reconnect). */
  own(participantId: string, connection: SocketConnection): void;
  /** With a cluster: serves a request about a call another node hosts (answers on the connection). */
  forward(connection: SocketConnection, request: ClientRequest, nodeId: string, frame: { data: Buffer; isBinary: boolean }): Promise<void>;
}

/**
 * One WebSocket client: decodes its requests, runs them against the domain, and sends it roster
 * events in its encoding; a WebRTC client also joins and negotiates its media here. A client
 * that does not read fast enough is closed (4008) instead of letting its backlog grow without
 * bound or slow anyone else down.
 */
export class SocketConnection {
  /** Subscribed calls, with the roster sequence this connection has seen up to. */
  readonly subscriptions = new Map<string, number>();
  /** WebRTC participants joined over this connection; only they can be signaled for here. */
  private readonly participants = new Map<string, Participant>();
  /** Consumer offers sent and not resumed yet: their resumeConsumer frames are not counted (see onFrame). */
  private resumeCredits = 0;
  /** Answered a ping since the last keepalive round. */
  alive = true;
  private closing = false;

  constructor(
    private readonly socket: WebSocket,
    readonly codec: WireCodec,
    /** Who this connection acts as, from the token in its handshake. */
    readonly principal: Principal,
    /** That token (a cluster relays WebRTC signaling to another node with it; see NodeRelays). */
    readonly token: string | undefined,
    private readonly commands: CommandContext,
    private readonly registry: SubscriptionRegistry,
    private readonly presence: WebRtcPresence,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {
    socket.on('message', (data, isBinary) => void this.onFrame(toBuffer(data), isBinary, process.hrtime.bigint()));
    socket.on('pong', () => (this.alive = true));
    socket.on('close', () => {
      for (const participant of this.participants.values()) this.presence.release(participant, 'signaling connection closed');
    });
  }

  get open(): boolean {
    return !this.closing && this.socket.readyState === this.socket.OPEN;
  }

  /** Sends an already encoded frame, unless the client's backlog is over the limit. */
  sendEncoded(frame: string | Uint8Array): void {
    if (!this.open) return;
    const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
    if (this.socket.bufferedAmount + size > this.limits.maxBufferedBytes) {
      this.close(
        CLOSE_SLOW_SUBSCRIBER,
        `subscriber too slow: more than ${this.limits.maxBufferedBytes} bytes unsent`,
        this.limits.slowCloseGraceMs,
      );
      return;
    }
    this.socket.send(frame, { binary: this.codec.binary });
  }

  /**
   * Counts this frame against its principal's requests (limits.requestsPerSecond); past them the
   * connection is closed, since answering every frame of a flood would keep its cost.
   */
  private admit(): boolean {
    if (!this.commands.requests?.refusal(this.principal)) return true;
    this.close(CLOSE_TOO_MANY_REQUESTS, 'too many requests (limits.requestsPerSecond)');
    return false;
  }

  send(event: ServerEvent): void {
    this.sendEncoded(this.codec.encode(event));
  }

  ping(): void {
    this.alive = false;
    this.socket.ping();
  }

  /** Queues a close frame; if the peer does not complete the close within `graceMs`, cuts the socket. */
  close(code: number, reason: string, graceMs = 1000): void {
    if (this.closing) return;
    this.closing = true;
    this.registry.release(this);
    this.log.info({ code, reason }, 'closing WebSocket');
    this.socket.close(code, reason);
    const timer = setTimeout(() => this.socket.terminate(), graceMs);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  terminate(): void {
    this.closing = true;
    this.registry.release(this);
    this.socket.terminate();
  }

  private async onFrame(data: Buffer, isBinary: boolean, receivedAt: bigint): Promise<void> {
    if (this.closing) return;
    let request: ClientRequest;
    try {
      request = this.codec.decode(data, isBinary);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      if (!this.admit()) return;
      this.send({ type: 'error', requestId: err.requestId, status: 400, code: 'badRequest', innerCode: err.innerCode, message: err.message });
      return;
    }
    // Resuming a consumer the server offered is the server's doing, one per other participant of
    // a large call at join: not counted against the client's own requests.
    if (request.type === 'resumeConsumer' && this.resumeCredits > 0) this.resumeCredits--;
    else if (!this.admit()) return;
    try {
      await this.handle(request, receivedAt, { data, isBinary });
    } catch (err) {
      if (err instanceof DomainError) {
        this.send({ type: 'error', requestId: request.requestId, ...describeDomainError(err) });
        return;
      }
      this.log.error({ err, request: request.type }, 'WebSocket request failed');
      this.send({ type: 'error', requestId: request.requestId, status: 500, code: 'generalException', innerCode: 'unhandledError', message: 'internal server error' });
    }
  }

  private async handle(request: ClientRequest, receivedAt: bigint, frame: { data: Buffer; isBinary: boolean }): Promise<void> {
    const ctx = this.commands;
    const principal = this.principal;
    // With a cluster: a call whose node is gone is taken over here first (nothing to wait for otherwise).
    // With a cluster: a call another node hosts is served there (see SocketServer).
    const hosting = 'callId' in request ? hostCall(ctx, principal, request.callId) : undefined;
    if (hosting) {
      const place = await hosting;
      // Closed while the call was looked up: its subscriptions and relays were released already,
      // and one set up for it now would never be (a client closing at once, over and over). What
      // it asked of the call itself (a mute) is still carried out.
      if (!this.open && !isCallRequest(request)) return;
      if (place.kind === 'node') return this.registry.forward(this, request, place.nodeId, frame);
    }
    if (isCallRequest(request)) {
      this.send(await runCallRequest(ctx, principal, request, receivedAt));
      return;
    }
    switch (request.type) {
      case 'subscribe':
      case 'resync': {
        const call = subscribeRoster(ctx, principal, request.callId);
        if (request.type === 'resync' && !this.subscriptions.has(call.id)) {
          throw new DomainError('invalidRequest', 'notSubscribed', `resync needs a subscription to call ${call.id}; subscribe first`);
        }
        // Registering and snapshotting in the same tick: no change can fall between them.
        this.registry.subscribe(this, call.id, call.rosterSequence);
        this.send({ type: 'snapshot', call, requestId: request.requestId });
        return;
      }
      case 'unsubscribe':
        this.registry.unsubscribe(this, request.callId);
        this.send({ type: 'ack', requestId: request.requestId, callId: request.callId });
        return;
      case 'getRouterRtpCapabilities':
        this.result(request.requestId, { rtpCapabilities: routerRtpCapabilities(ctx, principal, request.callId) });
        return;
      case 'join': {
        const identity = { user: { id: request.userId, ...(request.displayName !== undefined ? { displayName: request.displayName } : {}) } };
        const participant = await joinWebRtc(ctx, principal, request.callId, identity, request.rtpCapabilities);
        this.adopt(participant);
        this.result(request.requestId, { participantId: participant.id });
        return;
      }
      case 'createTransport': {
        const participant = this.own(request);
        const transport = await ctx.signaling.createTransport(participant, request.direction);
        this.result(request.requestId, { transport });
        // Offers follow the answer, so the client has its receive transport when they arrive.
        if (request.direction === 'recv') await ctx.signaling.startConsuming(participant);
        return;
      }
      case 'connectTransport':
        await ctx.signaling.connectTransport(this.own(request), request.transportId, request.dtlsParameters);
        this.result(request.requestId, {});
        return;
      case 'produce': {
        const { producerId } = await ctx.signaling.produce(this.own(request), request.transportId, request.rtpParameters);
        this.result(request.requestId, { producerId });
        return;
      }
      case 'resumeConsumer':
        await ctx.signaling.resumeConsumer(this.own(request), request.consumerId);
        this.result(request.requestId, {});
        return;
      case 'leave': {
        const participant = this.own(request);
        this.participants.delete(participant.id);
        await ctx.service.removeLeg(participant);
        this.result(request.requestId, {});
        return;
      }
    }
  }

  private result(requestId: string, body: Record<string, unknown>): void {
    this.send({ type: 'result', requestId, body });
  }

  /** The connection's own WebRTC participant named by the request. */
  private own(request: { callId: string; participantId: string }): Participant {
    const participant = this.participants.get(request.participantId);
    if (!participant || participant.callId !== request.callId) {
      throw new DomainError(
        'forbidden',
        'notYourParticipant',
        `participant ${request.participantId} was not joined on this connection (in call ${request.callId}); join first`,
      );
    }
    return participant;
  }

  /** Whether this connection speaks for the participant (joined it, or its token is that participant). */
  speaksFor(participant: ParticipantRef): boolean {
    return this.participants.has(participant.id) || this.commands.policy.isSelf(this.principal, participant);
  }

  /** The server tells this connection's client that its participant must join again. */
  reconnect(participant: Participant, reason: string): void {
    this.participants.delete(participant.id);
    this.send({ type: 'reconnect', callId: participant.callId, participantId: participant.id, reason });
  }

  private adopt(participant: Participant): void {
    this.participants.set(participant.id, participant);
    this.registry.own(participant.id, this);
    const { callId, id: participantId } = participant;
    this.commands.signaling.watch(participant, {
      consumer: (offer) => {
        this.resumeCredits = Math.min(this.resumeCredits + 1, MAX_RESUME_CREDITS);
        this.send({ type: 'consumer', callId, participantId, offer });
      },
      consumerClosed: (consumerId) => this.send({ type: 'consumerClosed', callId, participantId, consumerId }),
      transportFailed: (reason) => this.presence.release(participant, reason),
    });
    // The connection closed while the join was under way: its close released what it had then,
    // not this participant, which would otherwise stay in the call for good.
    if (this.socket.readyState !== this.socket.OPEN) this.presence.release(participant, 'signaling connection closed during the join');
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
