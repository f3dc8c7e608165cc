import type { CommandContext } from '../../commands/context.js';
import { subscribeRoster } from '../../commands/roster.js';
import type { Call } from '../../control/Call.js';
import type { RosterChange } from '../../control/CallService.js';
import { DomainError } from '../../control/errors.js';
import { describeDomainError } from '../graph/errors.js';
import { principalFromWire, principalToWire, type NodeLink, type WirePrincipal } from '../nodeLink.js';
import { isCallRequest, runCallRequest, type CallRequest } from './callRequests.js';
import type { WireCodec } from './codec.js';
import type { ClientRequest, ServerEvent } from './protocol.js';
import type { SocketConnection } from './SocketConnection.js';

/** A frame as it travels between nodes: JSON text as is, protobuf bytes in base64. */
type RelayedFrame = { text: string } | { base64: string };

/** One roster change of a call, as its node publishes it: the frames its own subscribers got. */
interface RelayedDelta {
  sequence: number;
  callEnded: boolean;
  frames: Record<string, RelayedFrame>;
}

interface SocketRequestPayload {
  principal: WirePrincipal;
  request: CallRequest;
  subprotocol: string;
}

interface SnapshotPayload {
  principal: WirePrincipal;
  callId: string;
  requestId: string;
  subprotocol: string;
}
type SnapshotAnswer = { sequence: number; frame: RelayedFrame } | { error: RelayedFrame };

/** Recent changes kept per followed call, for subscribers whose snapshot arrives after them. */
const RECENT_DELTAS = 256;

/** What RemoteRosters needs of the socket server's subscriptions. */
export interface LocalSubscriptions {
  subscribe(connection: SocketConnection, callId: string, snapshotSequence: number): void;
  unsubscribe(connection: SocketConnection, callId: string): void;
  subscribersOf(callId: string): ReadonlySet<SocketConnection> | undefined;
}

/** A call hosted elsewhere that subscribers here follow. */
interface FollowedCall {
  watching: Promise<void>;
  recent: RelayedDelta[];
  /** Subscriptions being set up (their snapshot is on its way). */
  joining: number;
}

/**
 * The WebSocket side of a cluster. For a call hosted by another node: a subscriber here gets a
 * snapshot from that node and then its roster changes, relayed over Redis pub/sub in the order
 * that node published them (the same frames its own subscribers get, checked against the
 * snapshot's sequence, so nothing is missed or doubled); mute, moderation and hand requests are
 * run there and their answers come back as they are. For a call hosted here: every roster change
 * is published for the other nodes' subscribers, and their requests are served.
 * WebRTC media of a call is on its node only: joining it goes through that node's socket.
 */
export class RemoteRosters {
  private readonly followed = new Map<string, FollowedCall>();

  constructor(
    private readonly link: NodeLink,
    private readonly commands: CommandContext,
    private readonly codecs: readonly WireCodec[],
    private readonly local: LocalSubscriptions,
  ) {
    link.handle('socketRequest', (payload) => this.serveRequest(payload as SocketRequestPayload));
    link.handle('snapshot', async (payload) => this.serveSnapshot(payload as SnapshotPayload));
  }

  /** Publishes a change of a call hosted here, with the frames already encoded for local subscribers (the others are encoded now). */
  publish(call: Call, change: RosterChange, frames: Map<WireCodec, string | Uint8Array>): void {
    // A node shutting down ends its calls here only: they go on on another node, whose
    // numbering continues after the last change published here (subscribers elsewhere resync).
    if (change.kind === 'callEnded' && this.commands.service.shuttingDown) return;
    const relayed: RelayedDelta = { sequence: change.sequence, callEnded: change.kind === 'callEnded', frames: {} };
    for (const codec of this.codecs) {
      const frame = frames.get(codec) ?? codec.encode({ type: 'delta', call, change });
      relayed.frames[codec.subprotocol] = toRelayed(frame);
    }
    this.link.publishRoster(call.id, change.sequence, JSON.stringify(relayed));
  }

  /** A request from a connection here about a call `nodeId` hosts. */
  async forward(connection: SocketConnection, request: ClientRequest, nodeId: string): Promise<void> {
    switch (request.type) {
      case 'subscribe':
      case 'resync':
        if (request.type === 'resync' && !connection.subscriptions.has(request.callId)) {
          throw new DomainError('invalidRequest', 'notSubscribed', `resync needs a subscription to call ${request.callId}; subscribe first`);
        }
        return this.subscribe(connection, request.callId, request.requestId, nodeId);
      case 'unsubscribe':
        this.local.unsubscribe(connection, request.callId);
        connection.send({ type: 'ack', requestId: request.requestId, callId: request.callId });
        return;
      default:
        if (!isCallRequest(request)) {
          throw new DomainError(
            'mediaUnavailable',
            'callHostedElsewhere',
            `call ${request.callId} is hosted by node ${nodeId}: its WebRTC media is there, so ${request.type} goes through that node's WebSocket`,
          );
        }
        connection.sendEncoded(fromRelayed((await this.ask(nodeId, 'socketRequest', { principal: principalToWire(connection.principal), request, subprotocol: connection.codec.subprotocol })) as RelayedFrame));
    }
  }

  /** The last subscriber here of a followed call left: stop following it. */
  released(callId: string): void {
    const followed = this.followed.get(callId);
    if (!followed || followed.joining > 0 || (this.local.subscribersOf(callId)?.size ?? 0) > 0) return;
    this.followed.delete(callId);
    this.link.unwatchRoster(callId);
  }

  private async subscribe(connection: SocketConnection, callId: string, requestId: string, nodeId: string): Promise<void> {
    let followed = this.followed.get(callId);
    if (!followed) {
      const created: FollowedCall = { watching: this.link.watchRoster(callId, (message) => this.onDelta(callId, message)), recent: [], joining: 0 };
      this.followed.set(callId, created);
      created.watching.catch(() => this.followed.get(callId) === created && this.followed.delete(callId));
      followed = created;
    }
    followed.joining++;
    try {
      await followed.watching.catch((err: unknown) => {
        throw new DomainError('mediaUnavailable', 'nodeUnreachable', `cannot follow call ${callId} on node ${nodeId}: ${(err as Error).message}`);
      });
      // Asked only once this node follows the call: every change after the snapshot reaches it.
      const answer = (await this.ask(nodeId, 'snapshot', { principal: principalToWire(connection.principal), callId, requestId, subprotocol: connection.codec.subprotocol })) as SnapshotAnswer;
      if ('error' in answer) return connection.sendEncoded(fromRelayed(answer.error));
      // Closed while the snapshot was on its way: released already, so not subscribed again.
      if (!connection.open) return;
      // From here on synchronous: changes that arrived before this answer are in `recent`, later ones find the subscription.
      connection.sendEncoded(fromRelayed(answer.frame));
      let seen = answer.sequence;
      for (const delta of followed.recent) {
        if (delta.sequence <= seen) continue;
        const frame = delta.frames[connection.codec.subprotocol];
        if (frame) connection.sendEncoded(fromRelayed(frame));
        seen = delta.sequence;
      }
      this.local.subscribe(connection, callId, seen);
    } finally {
      followed.joining--;
      this.released(callId);
    }
  }

  private onDelta(callId: string, message: string): void {
    const followed = this.followed.get(callId);
    if (!followed) return;
    const delta = JSON.parse(message) as RelayedDelta;
    followed.recent.push(delta);
    if (followed.recent.length > RECENT_DELTAS) followed.recent.shift();
    for (const connection of [...(this.local.subscribersOf(callId) ?? [])]) {
      if ((connection.subscriptions.get(callId) ?? Infinity) >= delta.sequence) continue;
      const frame = delta.frames[connection.codec.subprotocol];
      if (frame) connection.sendEncoded(fromRelayed(frame));
      connection.subscriptions.set(callId, delta.sequence);
      if (delta.callEnded) this.local.unsubscribe(connection, callId);
    }
  }

  private async ask(nodeId: string, kind: 'socketRequest' | 'snapshot', payload: SocketRequestPayload | SnapshotPayload): Promise<unknown> {
    try {
      return await this.link.request(nodeId, kind, payload);
    } catch (err) {
      throw new DomainError('mediaUnavailable', 'nodeUnreachable', `node ${nodeId}, which hosts this call, did not answer: ${(err as Error).message}`);
    }
  }

  /** Serves another node's client: its request, answered in its encoding (errors too). */
  private async serveRequest({ principal, request, subprotocol }: SocketRequestPayload): Promise<RelayedFrame> {
    const codec = this.codecOf(subprotocol);
    if (!isCallRequest(request)) throw new Error(`${String((request as { type?: unknown }).type)} is not served for other nodes`);
    return toRelayed(codec.encode(await answered(request.requestId, () => runCallRequest(this.commands, principalFromWire(principal), request, process.hrtime.bigint()))));
  }

  private serveSnapshot({ principal, callId, requestId, subprotocol }: SnapshotPayload): SnapshotAnswer {
    const codec = this.codecOf(subprotocol);
    try {
      const call = subscribeRoster(this.commands, principalFromWire(principal), callId);
      // Snapshot and sequence in the same turn: later changes are published after this answer.
      return { sequence: call.rosterSequence, frame: toRelayed(codec.encode({ type: 'snapshot', call, requestId })) };
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      return { error: toRelayed(codec.encode({ type: 'error', requestId, ...describeDomainError(err) })) };
    }
  }

  private codecOf(subprotocol: string): WireCodec {
    const codec = this.codecs.find((c) => c.subprotocol === subprotocol);
    if (!codec) throw new Error(`unknown subprotocol ${subprotocol}`);
    return codec;
  }
}

/** The event `run` answers, or the error event a domain error becomes (as the asking node would send it). */
async function answered(requestId: string, run: () => Promise<ServerEvent>): Promise<ServerEvent> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return { type: 'error', requestId, ...describeDomainError(err) };
  }
}

function toRelayed(frame: string | Uint8Array): RelayedFrame {
  return typeof frame === 'string' ? { text: frame } : { base64: Buffer.from(frame).toString('base64') };
}

function fromRelayed(frame: RelayedFrame): string | Uint8Array {
  return 'text' in frame ? frame.text : Buffer.from(frame.base64, 'base64');
}
