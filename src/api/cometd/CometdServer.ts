import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import faye, { type BayeuxMessage, type NodeAdapter } from 'faye';
import type { Logger } from 'pino';
import type { Call } from '../../control/Call.js';
import type { CallService, RosterChange } from '../../control/CallService.js';
import type { Participant } from '../../control/Participant.js';
import { AuthError, TokenVerifier } from '../auth/TokenVerifier.js';
import { genesysCallResource } from '../genesys/callResource.js';
import { pathOf } from '../http/upgradeRouter.js';

/** The one channel agents subscribe to (Genesys Workspace API). */
export const ME_CALLS_CHANNEL = '/v2/me/calls';

export interface CometdOptions {
  path: string;
  /** How long a /meta/connect is held open (long-polling) or answered (WebSocket). */
  connectTimeoutMs: number;
  /** Largest long-polling request body. */
  maxBodyBytes: number;
}

// Bayeux channel names allow only a few characters, so user ids travel hex-encoded.
const userChannel = (userId: string) => `/v2/users/${Buffer.from(userId, 'utf8').toString('hex')}/calls`;
const USER_CHANNEL = /^\/v2\/users\/[0-9a-f]+\/calls$/;

/**
 * Bayeux/CometD notifications in the Genesys Workspace shape, served by faye (WebSocket and
 * long-polling transports, interoperable with the cometd JavaScript client).
 *
 * Each agent subscribes to /v2/me/calls; the server maps that subscription to the agent's own
 * internal channel and maps deliveries back, so an agent only ever sees its own calls. The agent
 * is named in the handshake (`ext.userId`).
 */
export class CometdServer {
  private readonly bayeux: NodeAdapter;
  private readonly userByClient = new Map<string, string>();
  private readonly userByHandshake = new WeakMap<object, string>();
  /** Agents with a live /v2/me/calls subscription, by client: only they are worth a publish. */
  private readonly subscribedClients = new Map<string, string>();

  constructor(
    service: CallService,
    /** Null when authentication is off: the handshake then names the agent in ext.userId. */
    private readonly verifier: TokenVerifier | null,
    private readonly options: CometdOptions,
    private readonly baseUrl: () => string,
    private readonly log: Logger,
  ) {
    this.bayeux = new faye.NodeAdapter({ mount: options.path, timeout: options.connectTimeoutMs / 1000 });
    this.bayeux.addExtension({
      incoming: (message, request, callback) => void this.incoming(message, request).then(callback),
      outgoing: (message, request, callback) => callback(this.outgoing(message, request)),
    });
    this.bayeux.on('disconnect', (clientId) => {
      this.userByClient.delete(clientId);
      this.subscribedClients.delete(clientId);
    });
    service.on('roster', (call, change) => this.notify(call, change));
  }

  handles(request: IncomingMessage): boolean {
    const path = pathOf(request);
    return path === this.options.path || path.startsWith(this.options.path + '/');
  }

  /** Long-polling (and CORS preflight) requests, with a bound on the body size. */
  handleRequest(request: IncomingMessage, response: ServerResponse): void {
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > this.options.maxBodyBytes) {
      response.writeHead(413, { 'content-type': 'text/plain' }).end(`request body over ${this.options.maxBodyBytes} bytes\n`);
      request.resume();
      return;
    }
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > this.options.maxBodyBytes) request.destroy();
    });
    this.bayeux.handle(request, response);
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.bayeux.handleUpgrade(request, socket, head);
  }

  close(): void {
    this.bayeux.close();
  }

  private async incoming(message: BayeuxMessage, request: IncomingMessage | undefined): Promise<BayeuxMessage> {
    // Without a request the message comes from faye's in-process client: our own publisher.
    if (!request) return message;
    if (message.channel === '/meta/handshake') {
      let userId: unknown;
      if (this.verifier) {
        // ext.authorization: "Bearer <JWT>"; the agent is the token's subject.
        const raw = message.ext?.authorization;
        try {
          userId = (await this.verifier.verify(TokenVerifier.fromAuthorizationHeader(typeof raw === 'string' ? raw : undefined))).subject;
        } catch (err) {
          const status = err instanceof AuthError ? err.status : 401;
          return { ...message, error: `${status}::${err instanceof Error ? err.message : 'bad token'} (send ext.authorization: "Bearer <JWT>")` };
        }
      } else {
        userId = message.ext?.userId;
      }
      if (typeof userId !== 'string' || userId === '' || userId.length > 256) {
        return { ...message, error: '403::the handshake names no agent (token "sub", or ext.userId with authentication off)' };
      }
      this.userByHandshake.set(request, userId);
      return message;
    }
    if (message.channel === '/meta/subscribe' || message.channel === '/meta/unsubscribe') {
      if (message.subscription !== ME_CALLS_CHANNEL) {
        return { ...message, error: `403:${String(message.subscription)}:only ${ME_CALLS_CHANNEL} can be subscribed` };
      }
      const userId = message.clientId ? this.userByClient.get(message.clientId) : undefined;
      if (!userId) return { ...message, error: '401::unknown client; handshake again' };
      return { ...message, subscription: userChannel(userId) };
    }
    if (!message.channel.startsWith('/meta/')) {
      return { ...message, error: `403:${message.channel}:clients cannot publish` };
    }
    return message;
  }

  private outgoing(message: BayeuxMessage, request: IncomingMessage | undefined): BayeuxMessage {
    if (message.channel === '/meta/handshake' && message.successful && message.clientId && request) {
      const userId = this.userByHandshake.get(request);
      if (userId) this.userByClient.set(message.clientId, userId);
      return message;
    }
    if ((message.channel === '/meta/subscribe' || message.channel === '/meta/unsubscribe') && typeof message.subscription === 'string' && USER_CHANNEL.test(message.subscription)) {
      const userId = message.clientId ? this.userByClient.get(message.clientId) : undefined;
      if (message.successful && message.clientId && userId) {
        if (message.channel === '/meta/subscribe') this.subscribedClients.set(message.clientId, userId);
        else this.subscribedClients.delete(message.clientId);
      }
      return { ...message, subscription: ME_CALLS_CHANNEL };
    }
    if (USER_CHANNEL.test(message.channel)) return { ...message, channel: ME_CALLS_CHANNEL };
    return message;
  }

  /** Every agent in the call learns of the change: its own as StatusChange, others' as ParticipantsUpdated. */
  private notify(call: Call, change: RosterChange): void {
    if (this.subscribedClients.size === 0) return;
    const listening = new Set(this.subscribedClients.values());
    const changed = change.kind === 'callEnded' ? undefined : change.participant;
    const agents = [...call.participants.values()].filter((p) => p.identity.user && listening.has(p.identity.user.id));
    if (changed?.identity.user && listening.has(changed.identity.user.id) && !agents.includes(changed)) agents.push(changed); // it just left
    for (const agent of agents) {
      const own = agent === changed;
      this.publish(agent, {
        messageType: 'CallStateChangeMessage',
        notificationType: own ? 'StatusChange' : 'ParticipantsUpdated',
        call: genesysCallResource(call, agent, this.baseUrl(), own && change.kind === 'left'),
      });
    }
  }

  private publish(agent: Participant, data: unknown): void {
    const userId = agent.identity.user?.id;
    if (!userId) return;
    try {
      this.bayeux.getClient().publish(userChannel(userId), data);
    } catch (err) {
      this.log.error({ err }, 'CometD publish failed');
    }
  }
}
