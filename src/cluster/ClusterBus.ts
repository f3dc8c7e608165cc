import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { callKey, KEY_PREFIX } from './keys.js';
import type { RedisConnection } from './RedisConnection.js';

/** A request to another node that got no answer in time, or that no node was listening for. */
export class NodeUnreachable extends Error {
  override name = 'NodeUnreachable';
}

type RequestHandler = (payload: unknown) => Promise<unknown>;

interface RequestMessage {
  id: string;
  kind: string;
  replyTo: string;
  payload: unknown;
}
type ReplyMessage = { id: string; ok: true; result: unknown } | { id: string; ok: false; error: string };

// Only for a call Redis still knows (an ended call's hash is gone and stays gone).
const SET_SEQUENCE_IF_CALL = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'rosterSequence', ARGV[1]) end
return 1`;

const requestsChannel = (nodeId: string) => `${KEY_PREFIX}node:${nodeId}:requests`;
const repliesChannel = (nodeId: string) => `${KEY_PREFIX}node:${nodeId}:replies`;
const rosterChannel = (callId: string) => `${KEY_PREFIX}roster:${callId}`;
const topicChannel = (topic: string) => `${KEY_PREFIX}topic:${topic}`;

/**
 * Messages between nodes over Redis pub/sub, as LiveKit's nodes talk (a request channel per
 * node, replies on the asker's channel, a timeout), plus one channel per call on which its node
 * publishes the call's roster changes. One subscriber connection carries all of it, so a node
 * receives what another published in the order it was published.
 */
export class ClusterBus {
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly pending = new Map<string, { resolve: (value: unknown) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  private readonly rosterListeners = new Map<string, (message: string) => void>();
  private readonly topicListeners = new Map<string, (message: string) => void>();
  /** Every channel this node listens to: subscribed again whenever the subscriber connects. */
  private readonly channels = new Set<string>();
  private readonly subscribedListeners: (() => void)[] = [];

  constructor(
    private readonly redis: RedisConnection,
    private readonly nodeId: string,
    private readonly logger: Logger,
  ) {
    // Every channel is subscribed again on each (re)connection, also those whose first subscribe
    // failed because Redis was not there yet (ioredis' own resubscribe knows only the ones that took).
    this.subscriber = redis.client.duplicate({ lazyConnect: true, autoResubscribe: false });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => this.onMessage(channel, message));
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(...this.channels).then(
        () => {
          for (const listener of this.subscribedListeners) listener();
        },
        (err: unknown) => this.logger.warn({ err }, 'could not subscribe to the cluster channels; retrying at the next reconnect'),
      );
    });
    this.channels.add(requestsChannel(nodeId));
    this.channels.add(repliesChannel(nodeId));
  }

  /** Connects the subscriber; resolves also when Redis is not there yet (it subscribes once it is). */
  async start(): Promise<void> {
    await this.subscriber.connect().catch(() => undefined);
  }

  /** Called whenever the node's subscriptions are (re)established (start, Redis back). */
  onSubscribed(listener: () => void): void {
    this.subscribedListeners.push(listener);
  }

  /** Adds a channel: subscribed now if connected, and on every reconnection. */
  private async listen(channel: string): Promise<void> {
    this.channels.add(channel);
    if (this.subscriber.status === 'ready') await this.subscriber.subscribe(channel);
  }

  /** Serves requests of `kind` from other nodes. */
  handle(kind: string, handler: RequestHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Asks another node; rejects with NodeUnreachable when nobody listens or nothing came back in time. */
  async request(nodeId: string, kind: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (!this.redis.up) throw new NodeUnreachable('the cluster Redis cannot be reached');
    const message: RequestMessage = { id: randomUUID(), kind, replyTo: repliesChannel(this.nodeId), payload };
    const answered = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(message.id);
        reject(new NodeUnreachable(`node ${nodeId} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(message.id, { resolve, reject, timer });
    });
    // Handled here too: a publish that fails settles it below, before anyone awaits it.
    answered.catch(() => undefined);
    let receivers: number;
    try {
      receivers = await this.redis.client.publish(requestsChannel(nodeId), JSON.stringify(message));
    } catch (err) {
      this.settle({ id: message.id, ok: false, error: `cannot reach the cluster Redis: ${(err as Error).message}` });
      throw new NodeUnreachable(`cannot reach the cluster Redis: ${(err as Error).message}`);
    }
    if (receivers === 0) {
      this.settle({ id: message.id, ok: false, error: 'no receiver' });
      throw new NodeUnreachable(`node ${nodeId} is not listening`);
    }
    return answered;
  }

  /**
   * Publishes one roster change of a call hosted here, and records its sequence with the call (a
   * node taking the call over continues after it). One round trip, after the reply.
   */
  publishRoster(callId: string, sequence: number, message: string): void {
    if (!this.redis.up) return;
    this.redis.client
      .multi()
      .eval(SET_SEQUENCE_IF_CALL, 1, callKey(callId), String(sequence))
      .publish(rosterChannel(callId), message)
      .exec()
      .catch(() => undefined);
  }

  /** Receives a remote call's roster changes from now on (resolves once subscribed). */
  async watchRoster(callId: string, listener: (message: string) => void): Promise<void> {
    this.rosterListeners.set(callId, listener);
    try {
      if (this.subscriber.status !== 'ready') throw new Error('the cluster Redis cannot be reached');
      await this.listen(rosterChannel(callId));
    } catch (err) {
      this.rosterListeners.delete(callId);
      this.channels.delete(rosterChannel(callId));
      throw new NodeUnreachable(`cannot subscribe to call ${callId}'s roster: ${(err as Error).message}`);
    }
  }

  /** Publishes on a topic of the cluster; resolves with how many nodes received it (0 on failure). */
  /** How many subscribers received it; null: not published (Redis away, or the command failed). */
  async publishTopic(topic: string, message: string): Promise<number | null> {
    if (!this.redis.up) return null;
    return this.redis.client.publish(topicChannel(topic), message).catch(() => null);
  }

  /** Receives a topic from now on (and again after every reconnect). */
  async listenTopic(topic: string, listener: (message: string) => void): Promise<void> {
    this.topicListeners.set(topicChannel(topic), listener);
    await this.listen(topicChannel(topic)).catch((err: unknown) => {
      this.logger.warn({ err, topic }, 'could not subscribe to a cluster topic yet; it is subscribed at the next reconnect');
    });
  }

  unwatchRoster(callId: string): void {
    this.rosterListeners.delete(callId);
    this.channels.delete(rosterChannel(callId));
    this.subscriber.unsubscribe(rosterChannel(callId)).catch(() => undefined);
  }

  close(): void {
    for (const [id, { reject, timer }] of this.pending) {
      clearTimeout(timer);
      reject(new NodeUnreachable('the node is shutting down'));
      this.pending.delete(id);
    }
    this.subscriber.disconnect();
  }

  private onMessage(channel: string, raw: string): void {
    if (channel === repliesChannel(this.nodeId)) return this.settle(JSON.parse(raw) as ReplyMessage);
    if (channel === requestsChannel(this.nodeId)) return void this.serve(JSON.parse(raw) as RequestMessage);
    const topic = this.topicListeners.get(channel);
    if (topic) return topic(raw);
    const callId = channel.slice(rosterChannel('').length);
    this.rosterListeners.get(callId)?.(raw);
  }

  private async serve(message: RequestMessage): Promise<void> {
    const handler = this.handlers.get(message.kind);
    let reply: ReplyMessage;
    try {
      if (!handler) throw new Error(`no handler for ${message.kind}`);
      reply = { id: message.id, ok: true, result: await handler(message.payload) };
    } catch (err) {
      reply = { id: message.id, ok: false, error: (err as Error).message };
    }
    await this.redis.client.publish(message.replyTo, JSON.stringify(reply)).catch((err: unknown) => {
      this.logger.warn({ err, kind: message.kind }, 'could not answer another node');
    });
  }

  private settle(reply: ReplyMessage): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.result);
    else pending.reject(new NodeUnreachable(reply.error));
  }
}
