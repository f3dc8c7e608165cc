import WebSocket from 'ws';
import { DomainError } from '../../control/errors.js';
import type { ClientRequest } from './protocol.js';
import { CLOSE_TOO_MANY_REQUESTS, type SocketConnection } from './SocketConnection.js';

/** The WebRTC requests: their answers and the events that follow (consumer offers) belong to one connection. */
const WEBRTC_REQUESTS: ReadonlySet<ClientRequest['type']> = new Set(['getRouterRtpCapabilities', 'join', 'createTransport', 'connectTransport', 'produce', 'resumeConsumer', 'leave']);

export function isWebRtcRequest(request: ClientRequest): boolean {
  return WEBRTC_REQUESTS.has(request.type);
}

/**
 * Names, on a relay's WebSocket handshake, the node that opened it. A relayed connection is
 * never relayed again, and a node that receives its own relay (its idea of another node's
 * address leads back to itself) refuses it instead of relaying to itself without end.
 */
export const RELAYED_FROM_HEADER = 'x-mutegate-relayed-from';

/** How long opening a relay to another node may take. */
const OPEN_TIMEOUT_MS = 3000;

/**
 * With a cluster: WebRTC signaling for a call on another node, for a client connected here. Its
 * media is on that node, and so is the signaling state (the participant's transports, the
 * consumer offers pushed to its connection), so this node opens one WebSocket to that node's
 * endpoint on the client's behalf (same subprotocol, the client's own token) and relays frames
 * both ways as they are: the other node sees an ordinary client, with the same authorization,
 * and its answers and offers reach the client unchanged. One relay per client connection and node.
 */
export class NodeRelays {
  private readonly relays = new Map<SocketConnection, Map<string, Promise<WebSocket>>>();
  /** Relays whose WebSocket to the other node is open (see carriesEventsFrom). */
  private readonly opened = new WeakSet<Promise<WebSocket>>();

  constructor(
    private readonly path: string,
    /** This node: sent with every relay, so that a node reached by its own relay refuses it. */
    private readonly ownNodeId: string,
    private readonly urlOf: (nodeId: string) => Promise<string | undefined>,
  ) {}

  /** Sends the client's frame to `nodeId` over the connection's relay (opened on first use). */
  async forward(connection: SocketConnection, nodeId: string, frame: { data: Buffer; isBinary: boolean }): Promise<void> {
    // A closed connection was released: a relay opened for it now would never be closed.
    if (!connection.open) return;
    let perNode = this.relays.get(connection);
    if (!perNode) {
      perNode = new Map();
      this.relays.set(connection, perNode);
    }
    let relay = perNode.get(nodeId);
    if (!relay) {
      const opening = this.open(connection, nodeId);
      relay = opening;
      perNode.set(nodeId, opening);
      opening.then(
        () => this.opened.add(opening),
        () => perNode?.get(nodeId) === opening && perNode?.delete(nodeId),
      );
    }
    const socket = await relay;
    socket.send(frame.data, { binary: frame.isBinary });
  }

  /**
   * Whether the connection has an open relay to `nodeId`: that node's events for the client
   * (an unmute request) already reach it through the relay, so this node does not send them again.
   */
  carriesEventsFrom(connection: SocketConnection, nodeId: string): boolean {
    const relay = this.relays.get(connection)?.get(nodeId);
    return relay !== undefined && this.opened.has(relay);
  }

  /** The client connection closed: so do its relays (the other node then releases its participants). */
  release(connection: SocketConnection): void {
    const perNode = this.relays.get(connection);
    this.relays.delete(connection);
    for (const relay of perNode?.values() ?? []) relay.then((socket) => socket.close(1000, 'client gone'), () => undefined);
  }

  private async open(connection: SocketConnection, nodeId: string): Promise<WebSocket> {
    const base = await this.urlOf(nodeId);
    if (!base) throw unreachable(nodeId, 'it is not registered');
    const url = base.replace(/^http/, 'ws') + this.path;
    const headers: Record<string, string> = { [RELAYED_FROM_HEADER]: this.ownNodeId };
    if (connection.token) headers.authorization = `Bearer ${connection.token}`;
    const socket = new WebSocket(url, connection.codec.subprotocol, { headers });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // One that opens later is not kept either.
        socket.terminate();
        reject(unreachable(nodeId, `no WebSocket within ${OPEN_TIMEOUT_MS} ms`));
      }, OPEN_TIMEOUT_MS);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(unreachable(nodeId, err.message));
      });
    });
    socket.on('error', () => undefined);
    if (!connection.open) {
      // The client left while this relay was opening: its release() could not close it.
      socket.close(1000, 'client gone');
      throw unreachable(nodeId, 'the client connection closed');
    }
    socket.on('message', (data: Buffer, isBinary) => connection.sendEncoded(isBinary ? new Uint8Array(data) : data.toString()));
    socket.on('close', (code, reason) => {
      if (this.relays.get(connection)?.get(nodeId) !== undefined) this.relays.get(connection)?.delete(nodeId);
      // The hosting node closed the client's relay for too many requests: the client is told the
      // same way, not left waiting for answers that will not come (its participant there is released).
      if (code === CLOSE_TOO_MANY_REQUESTS) connection.close(code, reason.toString());
    });
    return socket;
  }
}

function unreachable(nodeId: string, why: string): DomainError {
  return new DomainError('mediaUnavailable', 'nodeUnreachable', `node ${nodeId}, which hosts this call and its WebRTC media, cannot be reached: ${why}`);
}
