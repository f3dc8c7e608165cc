import { DomainError } from '../../control/errors.js';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Call } from '../../control/Call.js';
import type { Participant } from '../../control/Participant.js';
import type { ParticipantRef } from '../../control/Policy.js';
import type { RosterChange } from '../../control/CallService.js';
import type { CommandContext } from '../../commands/context.js';
import type { WebRtcPresence } from './WebRtcPresence.js';
import { UNAUTHENTICATED_APP, type Principal } from '../../control/Principal.js';
import { AuthError, TokenVerifier } from '../auth/TokenVerifier.js';
import { rawGraphErrorResponse } from '../http/graphErrors.js';
import { pathOf } from '../http/upgradeRouter.js';
import type { NodeLink } from '../nodeLink.js';
import { CallSubscribers } from './CallSubscribers.js';
import type { ClientRequest } from './protocol.js';
import { isWebRtcRequest, NodeRelays, RELAYED_FROM_HEADER } from './NodeRelay.js';
import { RemoteRosters } from './RemoteRosters.js';
import { RemoteUnmuteRequests } from './RemoteUnmuteRequests.js';
import type { WireCodec } from './codec.js';
import { jsonCodec } from './jsonCodec.js';
import { protoCodec } from './protoCodec.js';
import { CLOSE_FORBIDDEN, CLOSE_GOING_AWAY, CLOSE_UNAUTHENTICATED, SocketConnection, type ConnectionLimits, type SubscriptionRegistry } from './SocketConnection.js';

export interface SocketServerOptions extends ConnectionLimits {
  path: string;
  /** Largest accepted client frame; bigger ones close the connection with 1009. */
  maxFrameBytes: number;
  /** Ping period; a client that has not answered the previous ping by the next one is dropped. */
  pingIntervalMs: number;
}

const codecs: readonly WireCodec[] = [jsonCodec, protoCodec];

/**
 * The encoding of the client's first offered subprotocol that is known (its order is its
 * preference). The handshake answers that subprotocol and the connection speaks that codec: one
 * decision, so the negotiated subprotocol and the frames can never disagree.
 */
function codecFor(offered: readonly string[]): WireCodec | undefined {
  for (const subprotocol of offered) {
    const codec = codecs.find((c) => c.subprotocol === subprotocol);
    if (codec) return codec;
  }
  return undefined;
}

/**
 * The roster WebSocket endpoint: accepts upgrades (subprotocol mutegate.v1.json or
 * mutegate.v1.proto), keeps each call's subscribers, and fans every roster change out to them,
 * encoding it once per encoding.
 */
export interface SocketServerEvents {
  /** One roster change was written to every subscriber of its call, in `seconds`. */
  fanOut: [seconds: number, subscribers: number];
}

export class SocketServer extends EventEmitter<SocketServerEvents> implements SubscriptionRegistry {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<SocketConnection>();
  private readonly subscribers = new Map<string, CallSubscribers<SocketConnection>>();
  /** WebRTC participants by the connection that joined them. */
  private readonly owners = new Map<string, SocketConnection>();
  /** Roster changes not yet written (see broadcast), each with its participant's state pinned. */
  private readonly pending: { call: Call; change: RosterChange }[] = [];
  private flushSoon: NodeJS.Immediate | undefined;
  private readonly keepalive: NodeJS.Timeout;
  /** With a cluster: subscribers of calls on other nodes, and this node's calls for theirs. */
  private readonly remote: RemoteRosters | undefined;
  private readonly unmuteRequests: RemoteUnmuteRequests | undefined;
  /** With a cluster: WebRTC signaling of clients here for calls on other nodes. */
  private readonly relays: NodeRelays | undefined;
  private readonly nodeId: string | undefined;
  /** Connections another node opened on a client's behalf (NodeRelays). */
  private readonly relayed = new WeakSet<SocketConnection>();

  constructor(
    private readonly commands: CommandContext,
    private readonly verifier: TokenVerifier | null,
    private readonly presence: WebRtcPresence,
    private readonly options: SocketServerOptions,
    private readonly log: Logger,
    link?: NodeLink,
  ) {
    super();
    this.remote = link
      ? new RemoteRosters(link, commands, codecs, {
          subscribe: (connection, callId, sequence) => this.subscribe(connection, callId, sequence),
          unsubscribe: (connection, callId) => this.unsubscribe(connection, callId),
          subscribersOf: (callId) => this.subscribers.get(callId)?.connections,
        })
      : undefined;
    this.relays = link ? new NodeRelays(options.path, link.nodeId, (nodeId) => link.urlOf(nodeId)) : undefined;
    this.nodeId = link?.nodeId;
    const service = commands.service;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes,
      // The subprotocol was checked in handleUpgrade; answer the one whose codec it chose.
      handleProtocols: (offered) => codecFor([...offered])?.subprotocol ?? false,
    });
    service.on('roster', (call, change) => this.broadcast(call, change));
    service.on('reconnectRequired', (_call, participant, reason) => this.owners.get(participant.id)?.reconnect(participant, reason));
    // An unmute request goes to the asked participant's own connections only, on every node.
    this.unmuteRequests = link ? new RemoteUnmuteRequests(link, (participant, clientContext, hostingNodeId) => this.deliverUnmuteRequest(participant, clientContext, hostingNodeId), log) : undefined;
    service.on('unmuteRequested', (_call, participant, clientContext) => {
      this.deliverUnmuteRequest(participant, clientContext);
      this.unmuteRequests?.publish(participant, clientContext);
    });
    this.keepalive = setInterval(() => this.pingAll(), options.pingIntervalMs);
    this.keepalive.unref();
  }

  handles(request: IncomingMessage): boolean {
    return pathOf(request) === this.options.path;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Takes over an HTTP upgrade request. No subprotocol means JSON (handy with wscat); offering
   * only unknown subprotocols is refused with 400 before the handshake.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = (request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const codec = offered.length === 0 ? jsonCodec : codecFor(offered);
    if (!codec) {
      const message = `unsupported WebSocket subprotocol (${offered.join(', ').slice(0, 200)}); use ${codecs.map((c) => c.subprotocol).join(' or ')}`;
      socket.end(rawGraphErrorResponse(400, message, 'unsupportedSubprotocol'));
      return;
    }
    const relayedFrom = request.headers[RELAYED_FROM_HEADER];
    if (relayedFrom !== undefined && relayedFrom === this.nodeId) {
      // This node's relay came back to it: the address registered for the other node leads here.
      const message = `relay loop: a WebSocket relay of node ${this.nodeId} reached node ${this.nodeId} itself; the URL another node registered (cluster.advertiseUrl) leads back here`;
      socket.end(rawGraphErrorResponse(508, message, 'relayLoop'));
      return;
    }
    // Browsers cannot set headers on a WebSocket: the token may also come as ?access_token=.
    const token =
      TokenVerifier.fromAuthorizationHeader(request.headers.authorization) ??
      new URL(request.url ?? '/', 'http://localhost').searchParams.get('access_token') ??
      undefined;
    const verified = this.verifier ? this.verifier.verify(token) : Promise.resolve(UNAUTHENTICATED_APP);
    verified.then(
      (principal) => this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, codec, principal, token, relayedFrom !== undefined)),
      (err: unknown) => {
        // Complete the handshake so that every client (browsers too) sees the reason in the close.
        this.wss.handleUpgrade(request, socket, head, (ws) => {
          const status = err instanceof AuthError ? err.status : 401;
          const reason = `${status === 403 ? 'forbidden' : 'unauthenticated'}: ${err instanceof Error ? err.message : 'bad token'}`;
          ws.close(status === 403 ? CLOSE_FORBIDDEN : CLOSE_UNAUTHENTICATED, reason.slice(0, 120));
        });
      },
    );
  }

  subscribe(connection: SocketConnection, callId: string, snapshotSequence: number): void {
    connection.subscriptions.set(callId, snapshotSequence);
    let set = this.subscribers.get(callId);
    if (!set) {
      set = new CallSubscribers();
      this.subscribers.set(callId, set);
    }
    set.add(connection);
  }

  unsubscribe(connection: SocketConnection, callId: string): void {
    connection.subscriptions.delete(callId);
    const set = this.subscribers.get(callId);
    set?.delete(connection);
    if (set?.size === 0) {
      this.subscribers.delete(callId);
      this.remote?.released(callId);
    }
  }

  forward(connection: SocketConnection, request: ClientRequest, nodeId: string, frame: { data: Buffer; isBinary: boolean }): Promise<void> {
    if (!this.remote || !this.relays) return Promise.reject(new Error('forward() without a cluster'));
    // Another node relayed this connection here because the call was here; it moved meanwhile.
    // Never a second hop (relays of relays could chain without end): the client tries again.
    if (this.relayed.has(connection)) {
      return Promise.reject(new DomainError('mediaUnavailable', 'nodeUnreachable', `call ${'callId' in request ? request.callId : ''} moved to node ${nodeId} while the request was on its way; try again`));
    }
    if (isWebRtcRequest(request)) return this.relays.forward(connection, nodeId, frame);
    return this.remote.forward(connection, request, nodeId);
  }

  /** `hostingNodeId`: the request came from that node (its relays to our clients carry it already). */
  private deliverUnmuteRequest(participant: ParticipantRef, clientContext: string | undefined, hostingNodeId?: string): void {
    for (const connection of this.connections) {
      if (!connection.speaksFor(participant)) continue;
      if (hostingNodeId !== undefined && this.relays?.carriesEventsFrom(connection, hostingNodeId)) continue;
      connection.send({ type: 'unmuteRequested', callId: participant.callId, participantId: participant.id, ...(clientContext !== undefined ? { clientContext } : {}) });
    }
  }

  own(participantId: string, connection: SocketConnection): void {
    this.owners.set(participantId, connection);
  }

  release(connection: SocketConnection): void {
    this.connections.delete(connection);
    this.relays?.release(connection);
    for (const [participantId, owner] of this.owners) if (owner === connection) this.owners.delete(participantId);
    for (const callId of [...connection.subscriptions.keys()]) this.unsubscribe(connection, callId);
  }

  /**
   * Says goodbye to every client (shutdown) and resolves once their sockets are closed, so what
   * was written to them (the last roster events) has left the process.
   */
  async close(): Promise<void> {
    this.flush();
    clearInterval(this.keepalive);
    this.presence.close();
    const sockets = [...this.wss.clients];
    const closed = Promise.all(sockets.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((r) => ws.once('close', r)))));
    for (const connection of [...this.connections]) connection.close(CLOSE_GOING_AWAY, 'server shutting down', 1000);
    await closed;
    this.wss.close();
  }

  private accept(ws: WebSocket, codec: WireCodec, principal: Principal, token: string | undefined, relayed: boolean): void {
    const connection = new SocketConnection(ws, codec, principal, token, this.commands, this, this.presence, this.options, this.log.child({ ws: codec.subprotocol }));
    this.connections.add(connection);
    if (relayed) this.relayed.add(connection);
    ws.on('close', () => this.release(connection));
    // A socket error (reset, oversized frame) is followed by 'close'; nothing else to do.
    ws.on('error', (err) => this.log.debug({ err }, 'WebSocket error'));
  }

  /**
   * A roster change is encoded and written to the subscribers right after the current turn, so
   * that the reply to the request that caused it (the mute's 200) is written first: neither the
   * encoding nor a large fan-out is on its path. The participant's state is pinned now, so the
   * delta shows the state of this moment even if a later change comes in the same turn.
   */
  private broadcast(call: Call, change: RosterChange): void {
    if (change.kind === 'left') this.owners.delete(change.participant.id);
    const set = this.subscribers.get(call.id);
    // With a cluster, every change is published for subscribers on other nodes too.
    if ((!set || set.size === 0) && !this.remote) return;
    this.pending.push({ call, change: change.kind === 'callEnded' ? change : { ...change, participant: pinnedState(change.participant) } });
    this.flushSoon ??= setImmediate(() => this.flush());
  }

  /** Encodes every pending change (once per encoding in use) and writes it, in order, to the subscribers that have not seen it. */
  private flush(): void {
    if (this.flushSoon) clearImmediate(this.flushSoon);
    this.flushSoon = undefined;
    for (const { call, change } of this.pending.splice(0)) {
      const set = this.subscribers.get(call.id);
      const frames = new Map<WireCodec, string | Uint8Array>();
      if (!set) {
        this.remote?.publish(call, change, frames);
        continue;
      }
      const started = process.hrtime.bigint();
      for (const codec of set.codecs()) frames.set(codec, codec.encode({ type: 'delta', call, change }));
      for (const connection of set.connections) {
        // A snapshot taken after the change already contains it.
        if ((connection.subscriptions.get(call.id) ?? Infinity) >= change.sequence) continue;
        const frame = frames.get(connection.codec);
        if (frame === undefined) continue;
        connection.sendEncoded(frame);
        connection.subscriptions.set(call.id, change.sequence);
      }
      this.emit('fanOut', Number(process.hrtime.bigint() - started) / 1e9, set.size);
      this.remote?.publish(call, change, frames);
      if (change.kind === 'callEnded') for (const connection of [...set.connections]) this.unsubscribe(connection, call.id);
    }
  }

  private pingAll(): void {
    for (const connection of [...this.connections]) {
      if (!connection.alive) {
        this.log.info('reaping a WebSocket that did not answer ping');
        connection.terminate();
        continue;
      }
      connection.ping();
    }
  }
}

/**
 * The participant as it is now, for encoding after this turn: what a roster delta shows and can
 * change (mute, lock, deafen, hand, the send stream's id) pinned as own properties over the live
 * participant's getters; what never changes (id, identity) is read through. Object.create keeps
 * it a Participant (the live one is its prototype), so the codecs take it as they are.
 */
function pinnedState(participant: Participant): Participant {
  return Object.create(participant, {
    isMuted: { value: participant.isMuted, enumerable: true },
    locked: { value: participant.locked, enumerable: true },
    deafened: { value: participant.deafened, enumerable: true },
    handRaised: { value: participant.handRaised, enumerable: true },
    sourceId: { value: participant.sourceId, enumerable: true },
    talkingWhileMuted: { value: participant.talkingWhileMuted, enumerable: true },
    dominantSpeaker: { value: participant.dominantSpeaker, enumerable: true },
  }) as Participant;
}
