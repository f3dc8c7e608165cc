import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import faye, { type BayeuxMessage, type NodeAdapter } from 'faye';
import type { Logger } from 'pino';
import type { Call } from '../../control/Call.js';
import type { RosterChange } from '../../control/CallService.js';
import type { Principal } from '../../control/Principal.js';
import { agentLegIn } from '../../commands/agent.js';
import type { CommandContext } from '../../commands/context.js';
import type { Participant } from '../../control/Participant.js';
import { AuthError, TokenVerifier } from '../auth/TokenVerifier.js';
import { genesysCallResource } from '../genesys/callResource.js';
import { graphError } from '../graph/errors.js';
import { pathOf } from '../http/upgradeRouter.js';
import type { NodeLink } from '../nodeLink.js';
import { DeliveryTracker } from './DeliveryTracker.js';
import { RemoteAgentSessions } from './RemoteAgentSessions.js';

/** The one channel agents subscribe to (Genesys Workspace API). */
export const ME_CALLS_CHANNEL = '/v2/me/calls';

export interface CometdOptions {
  path: string;
  /** How long a /meta/connect is held open (long-polling) or answered (WebSocket). */
  connectTimeoutMs: number;
  /** Largest long-polling request body. */
  maxBodyBytes: number;
}

// Each session (Bayeux client id: faye makes it from [0-9a-z]) gets its own internal channel, so
// what it hears is decided per token, not per user: two tokens of the same user with different
// call scopes hear different calls.
const sessionChannel = (clientId: string) => `/v2/sessions/${clientId}/calls`;
const SESSION_CHANNEL = /^\/v2\/sessions\/[0-9a-z]+\/calls$/;

/**
 * Bayeux/CometD notifications in the Genesys Workspace shape, served by faye (WebSocket and
 * long-polling transports, interoperable with the cometd JavaScript client).
 *
 * Each agent subscribes to /v2/me/calls; the server maps that subscription to the session's own
 * internal channel and maps deliveries back. The handshake's token decides who the agent is and
 * which calls it hears (the agent commands: its own leg, in calls inside the token's scope), as on
 * the Genesys HTTP API.
 */
export class CometdServer {
  private readonly bayeux: NodeAdapter;
  private readonly principalByClient = new Map<string, Principal>();
  private readonly principalByHandshake = new WeakMap<object, Principal>();
  /** Agents with a live /v2/me/calls subscription, by client: only they are worth a publish. */
  private readonly subscribedClients = new Map<string, Principal>();
  /** What has been published for each client and not yet reached it (shutdown waits for it). */
  private readonly deliveries = new DeliveryTracker();
  /** With a cluster: agents subscribed on other nodes (they hear this node's calls too). */
  private readonly remote: RemoteAgentSessions | undefined;

  constructor(
    private readonly commands: CommandContext,
    /** Null when authentication is off: the handshake then names the agent in ext.userId. */
    private readonly verifier: TokenVerifier | null,
    private readonly options: CometdOptions,
    private readonly baseUrl: () => string,
    private readonly log: Logger,
    link?: NodeLink,
  ) {
    this.remote = link
      ? new RemoteAgentSessions(link, { subscribed: () => this.subscribedClients.entries(), deliver: (clientId, data) => this.deliverLocal(clientId, data) })
      : undefined;
    this.bayeux = new faye.NodeAdapter({ mount: options.path, timeout: options.connectTimeoutMs / 1000 });
    this.bayeux.addExtension({
      incoming: (message, request, callback) => {
        // Anyone can POST to the Bayeux endpoint before a handshake: a message without a string
        // channel is answered with an error here and never reaches code that reads its fields.
        if (!isWellFormed(message)) {
          callback(malformed(message));
          return;
        }
        this.incoming(message, request).then(callback, (err: unknown) => {
          this.log.error({ err }, 'CometD message handling failed');
          callback({ ...message, error: '500::internal error' });
        });
      },
      outgoing: (message, request, callback) => callback(isWellFormed(message) ? this.outgoing(message, request) : message),
    });
    this.bayeux.addExtension(this.deliveries.extension);
    this.bayeux.on('disconnect', (clientId) => {
      this.deliveries.forget(clientId);
      this.principalByClient.delete(clientId);
      if (this.subscribedClients.delete(clientId)) this.remote?.announce(clientId, null);
    });
    commands.service.on('roster', (call, change) => this.notify(call, change));
  }

  handles(request: IncomingMessage): boolean {
    const path = pathOf(request);
    return path === this.options.path || path.startsWith(this.options.path + '/');
  }

  /** Long-polling (and CORS preflight) requests, with a bound on the body size. */
  handleRequest(request: IncomingMessage, response: ServerResponse): void {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > this.options.maxBodyBytes) {
      // The same answer as every other HTTP error of the gateway: Graph's shape, with a request-id.
      const requestId = randomUUID();
      const body = JSON.stringify(graphError(413, `request body over ${this.options.maxBodyBytes} bytes`, { requestId }, 'requestBodyTooLarge'));
      response.writeHead(413, { 'content-type': 'application/json; charset=utf-8', 'request-id': requestId, connection: 'close' }).end(body);
      request.resume();
      return;
    }
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > this.options.maxBodyBytes) request.destroy();
    });
    this.deliveries.watchResponse(request, response);
    this.bayeux.handle(request, response);
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.bayeux.handleUpgrade(request, socket, head);
  }

  /**
   * Shutdown, after the calls were ended: waits (at most `flushTimeoutMs`) until every agent has
   * received what was published for it — the final events — and only then closes faye, which
   * answers the held /meta/connect requests and forgets every client and undelivered message.
   * The HTTP server must still accept connections meanwhile: a long-polling agent fetches its
   * last messages with a new /meta/connect, possibly on a new connection.
   */
  async close(flushTimeoutMs: number): Promise<void> {
    if (!(await this.deliveries.flushed(flushTimeoutMs))) {
      this.log.warn({ clients: this.deliveries.pendingClients().length }, 'CometD agents did not fetch their final events in time');
    }
    this.bayeux.close();
  }

  private async incoming(message: BayeuxMessage, request: IncomingMessage | undefined): Promise<BayeuxMessage> {
    // Without a request the message comes from faye's in-process client: our own publisher.
    if (!request) return message;
    if (message.channel === '/meta/handshake') {
      let principal: Principal;
      if (this.verifier) {
        // ext.authorization: "Bearer <JWT>"; the agent is the token's subject.
        const raw = message.ext?.authorization;
        try {
          principal = await this.verifier.verify(TokenVerifier.fromAuthorizationHeader(typeof raw === 'string' ? raw : undefined));
        } catch (err) {
          const status = err instanceof AuthError ? err.status : 401;
          return { ...message, error: `${status}::${err instanceof Error ? err.message : 'bad token'} (send ext.authorization: "Bearer <JWT>")` };
        }
      } else {
        // Authentication off (local experiments): the handshake names the agent, who may hear every call.
        const userId = message.ext?.userId;
        principal = { kind: 'moderator', subject: typeof userId === 'string' && userId.length <= 256 ? userId : '', calls: 'all' };
      }
      try {
        this.commands.policy.requireAgent(principal);
      } catch (err) {
        return { ...message, error: `403::${(err as Error).message} (the handshake names no agent: token "sub", or ext.userId with authentication off)` };
      }
      const limited = this.overRequestRate(principal);
      if (limited) return { ...message, error: limited };
      this.principalByHandshake.set(request, principal);
      return message;
    }
    // Every other message of a session counts against its token's requests (limits.requestsPerSecond).
    const sessionPrincipal = message.clientId ? this.principalByClient.get(message.clientId) : undefined;
    if (sessionPrincipal) {
      const limited = this.overRequestRate(sessionPrincipal);
      if (limited) return { ...message, error: limited };
    }
    if (message.channel === '/meta/subscribe' || message.channel === '/meta/unsubscribe') {
      if (message.subscription !== ME_CALLS_CHANNEL) {
        return { ...message, error: `403:${String(message.subscription)}:only ${ME_CALLS_CHANNEL} can be subscribed` };
      }
      if (!message.clientId || !this.principalByClient.has(message.clientId)) return { ...message, error: '401::unknown client; handshake again' };
      return { ...message, subscription: sessionChannel(message.clientId) };
    }
    if (!message.channel.startsWith('/meta/')) {
      return { ...message, error: `403:${message.channel}:clients cannot publish` };
    }
    return message;
  }

  /** A Bayeux error (429) when `principal` is past limits.requestsPerSecond, else null. */
  private overRequestRate(principal: Principal): string | null {
    const refused = this.commands.requests?.refusal(principal);
    return refused ? `429::${refused.message}` : null;
  }

  private outgoing(message: BayeuxMessage, request: IncomingMessage | undefined): BayeuxMessage {
    if (message.channel === '/meta/handshake' && message.successful && message.clientId && request) {
      const principal = this.principalByHandshake.get(request);
      if (principal) this.principalByClient.set(message.clientId, principal);
      return message;
    }
    if ((message.channel === '/meta/subscribe' || message.channel === '/meta/unsubscribe') && typeof message.subscription === 'string' && SESSION_CHANNEL.test(message.subscription)) {
      const principal = message.clientId ? this.principalByClient.get(message.clientId) : undefined;
      if (message.successful && message.clientId && principal) {
        if (message.channel === '/meta/subscribe') this.subscribedClients.set(message.clientId, principal);
        else this.subscribedClients.delete(message.clientId);
        this.remote?.announce(message.clientId, message.channel === '/meta/subscribe' ? principal : null);
      }
      return { ...message, subscription: ME_CALLS_CHANNEL };
    }
    if (SESSION_CHANNEL.test(message.channel)) return { ...message, channel: ME_CALLS_CHANNEL };
    return message;
  }

  /**
   * Every agent session whose own leg is in the call learns of the change: of its own leg as
   * StatusChange, of others' as ParticipantsUpdated. A leg that just left is still told.
   */
  private notify(call: Call, change: RosterChange): void {
    const remote = this.remote ? [...this.remote.entries()] : [];
    if (this.subscribedClients.size === 0 && remote.length === 0) return;
    const changed = change.kind === 'callEnded' ? undefined : change.participant;
    const legsByUser = new Map<string, Participant[]>();
    const legs = [...call.participants.values()];
    if (changed && !call.participants.has(changed.id)) legs.push(changed); // it just left
    for (const leg of legs) {
      const userId = leg.identity.user?.id;
      if (userId !== undefined) legsByUser.set(userId, [...(legsByUser.get(userId) ?? []), leg]);
    }
    const sessions: [clientId: string, principal: Principal, nodeId: string | undefined][] = [
      ...[...this.subscribedClients].map(([clientId, principal]): [string, Principal, undefined] => [clientId, principal, undefined]),
      ...remote.map(([clientId, session]): [string, Principal, string] => [clientId, session.principal, session.nodeId]),
    ];
    for (const [clientId, principal, nodeId] of sessions) {
      for (const leg of legsByUser.get(principal.subject) ?? []) {
        if (!agentLegIn(this.commands, principal, call, leg)) continue;
        const own = leg === changed;
        const data = {
          messageType: 'CallStateChangeMessage',
          notificationType: own ? 'StatusChange' : 'ParticipantsUpdated',
          call: genesysCallResource(call, leg, this.baseUrl(), own && change.kind === 'left'),
        };
        if (nodeId === undefined) this.publish(clientId, data);
        else this.remote?.deliver(nodeId, clientId, data);
      }
    }
  }

  /** A message another node's call has for a session here, if it is still subscribed. */
  private deliverLocal(clientId: string, data: unknown): void {
    if (this.subscribedClients.has(clientId)) this.publish(clientId, data);
  }

  private publish(clientId: string, data: unknown): void {
    try {
      this.deliveries.published(clientId, this.bayeux.getClient().publish(sessionChannel(clientId), data));
    } catch (err) {
      this.log.error({ err }, 'CometD publish failed');
    }
  }
}

/** What faye hands the extensions is parsed client JSON: its `channel` may be anything. */
function isWellFormed(message: BayeuxMessage): boolean {
  return typeof message === 'object' && message !== null && typeof message.channel === 'string';
}

/** The same message, made safe for the rest of the pipeline (and for faye), with a Bayeux 400 error. */
function malformed(message: BayeuxMessage): BayeuxMessage {
  const id = typeof message === 'object' && message !== null && typeof message.id === 'string' ? message.id : undefined;
  return { channel: '/meta/invalid', ...(id ? { id } : {}), error: '400::a Bayeux message needs a "channel" string' };
}
