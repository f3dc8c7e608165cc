import type { Principal } from '../../control/Principal.js';
import { principalFromWire, principalToWire, type NodeLink, type WirePrincipal } from '../nodeLink.js';

const SESSIONS_TOPIC = 'cometd:sessions';
const HELLO_RETRY_MS = 1000;
const deliveryTopic = (nodeId: string) => `cometd:deliver:${nodeId}`;

type SessionMessage =
  | { nodeId: string; clientId: string; principal: WirePrincipal | null }
  /** A node (re)connected: every node announces its sessions again. */
  | { nodeId: string; hello: true };

interface Delivery {
  clientId: string;
  data: unknown;
}

/** What the CometD server gives: its own subscribed sessions, and delivery to one of them. */
export interface LocalAgentSessions {
  subscribed(): Iterable<[clientId: string, principal: Principal]>;
  deliver(clientId: string, data: unknown): void;
}

/**
 * With a cluster: the agent sessions subscribed on other nodes, so that the node hosting a call
 * tells them of it as it tells its own (the same authorization, run here with the principal the
 * other node verified), and delivery of those messages to the node that holds the session.
 * Sessions are announced over Redis pub/sub as they subscribe and leave, and again whenever a node
 * (re)connects; a node that no longer listens loses its sessions here at the first delivery.
 */
export class RemoteAgentSessions {
  private readonly sessions = new Map<string, { nodeId: string; principal: Principal }>();
  private helloPending = false;

  constructor(
    private readonly link: NodeLink,
    private readonly local: LocalAgentSessions,
  ) {
    void link.listenTopic(SESSIONS_TOPIC, (raw) => this.onSessionMessage(JSON.parse(raw) as SessionMessage));
    void link.listenTopic(deliveryTopic(link.nodeId), (raw) => {
      const { clientId, data } = JSON.parse(raw) as Delivery;
      local.deliver(clientId, data);
    });
    link.onConnected(() => this.hello());
  }

  /** Asks every node to announce its sessions; tried again each second until it is published. */
  private hello(): void {
    if (this.helloPending) return;
    this.helloPending = true;
    const attempt = (): void => {
      void this.link.publishTopic(SESSIONS_TOPIC, JSON.stringify({ nodeId: this.link.nodeId, hello: true } satisfies SessionMessage)).then((receivers) => {
        if (receivers !== null) this.helloPending = false;
        else setTimeout(attempt, HELLO_RETRY_MS).unref();
      });
    };
    attempt();
  }

  /** A session here subscribed (principal) or left (null). */
  announce(clientId: string, principal: Principal | null): void {
    this.send({ nodeId: this.link.nodeId, clientId, principal: principal ? principalToWire(principal) : null });
  }

  entries(): IterableIterator<[string, { nodeId: string; principal: Principal }]> {
    return this.sessions.entries();
  }

  /** Sends `data` to a session on another node. */
  deliver(nodeId: string, clientId: string, data: unknown): void {
    const delivery: Delivery = { clientId, data };
    void this.link.publishTopic(deliveryTopic(nodeId), JSON.stringify(delivery)).then((receivers) => {
      // null: not published (Redis away), which says nothing about that node.
      if (receivers === null || receivers > 0) return;
      // Nobody listens for that node any more (it is gone): its sessions are gone too.
      for (const [id, session] of this.sessions) if (session.nodeId === nodeId) this.sessions.delete(id);
    });
  }

  private onSessionMessage(message: SessionMessage): void {
    if (message.nodeId === this.link.nodeId) return;
    if ('hello' in message) {
      for (const [clientId, principal] of this.local.subscribed()) this.announce(clientId, principal);
      return;
    }
    if (message.principal) this.sessions.set(message.clientId, { nodeId: message.nodeId, principal: principalFromWire(message.principal) });
    else this.sessions.delete(message.clientId);
  }

  private send(message: SessionMessage): void {
    void this.link.publishTopic(SESSIONS_TOPIC, JSON.stringify(message));
  }
}
