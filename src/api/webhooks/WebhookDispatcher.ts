import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Call } from '../../control/Call.js';
import type { CallService, RosterChange } from '../../control/CallService.js';
import { rosterChangeNotification, type CommsNotifications } from '../graph/notifications.js';
import { PendingNotifications, type PendingNotification } from './PendingNotifications.js';

export interface WebhookOptions {
  /** Per attempt. */
  timeoutMs: number;
  /** Waits before the 2nd, 3rd, … attempt; its length is the number of retries. */
  retryDelaysMs: number[];
  /** Notifications waiting per call; past it the oldest state updates are dropped (and counted). */
  maxQueuePerCall: number;
}

/** superseded: replaced by newer news about the same participant before it was sent (see PendingNotifications). */
export type WebhookOutcome = 'delivered' | 'failed' | 'dropped' | 'superseded';

export interface WebhookEvents {
  /** One notification's fate: delivered, failed after every retry, superseded by newer news, or dropped (queue full). */
  outcome: [outcome: WebhookOutcome, callId: string];
}

/** Retrying makes sense for these; any other 4xx is the receiver refusing for good. */
const retryableStatus = (status: number) => status >= 500 || status === 408 || status === 429;

/** One call's notifications, posted strictly in order: the next waits until the head is done. */
class CallWebhookQueue {
  private readonly pending: PendingNotifications;
  private running = false;
  private stopped = false;
  /** The call ended: once the queue is empty, it is done for good. */
  private ending = false;
  private wake: (() => void) | null = null;

  constructor(
    readonly callId: string,
    private readonly uri: string,
    private readonly options: WebhookOptions,
    private readonly report: (outcome: WebhookOutcome) => void,
    private readonly onDone: () => void,
    private readonly log: Logger,
  ) {
    this.pending = new PendingNotifications(options.maxQueuePerCall);
  }

  /** Delivers what is queued, then calls onDone. */
  end(): void {
    this.ending = true;
    if (!this.running) this.onDone();
  }

  push(item: PendingNotification): void {
    if (this.stopped) return;
    const { superseded, dropped } = this.pending.push(item, this.running);
    for (let i = 0; i < superseded; i++) this.report('superseded');
    if (dropped > 0) {
      this.log.warn({ queued: this.pending.length }, 'webhook queue full; dropped the oldest state update');
      for (let i = 0; i < dropped; i++) this.report('dropped');
    }
    if (!this.running) void this.drain();
  }

  stop(): void {
    this.stopped = true;
    this.pending.clear();
    this.wake?.();
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (!this.stopped && this.pending.length > 0) {
      const head = this.pending.head() as PendingNotification;
      this.report((await this.deliver(head.notification)) ? 'delivered' : 'failed');
      this.pending.shift();
    }
    this.running = false;
    if (this.ending) this.onDone();
  }

  private async deliver(notification: CommsNotifications): Promise<boolean> {
    const body = JSON.stringify(notification);
    for (let attempt = 0; attempt <= this.options.retryDelaysMs.length && !this.stopped; attempt++) {
      if (attempt > 0) await this.sleep(this.options.retryDelaysMs[attempt - 1] as number);
      if (this.stopped) break;
      try {
        const res = await fetch(this.uri, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await res.body?.cancel();
        if (res.status >= 200 && res.status < 300) return true;
        this.log.warn({ status: res.status, attempt }, 'webhook receiver refused notification');
        if (!retryableStatus(res.status)) return false;
      } catch (err) {
        this.log.warn({ err: (err as Error).message, attempt }, 'webhook delivery failed');
      }
    }
    return false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/**
 * Graph webhooks: every roster change of a call created with a callbackUri is POSTed there as
 * commsNotifications, in order, with retries and backoff, through a bounded per-call queue.
 */
export class WebhookDispatcher extends EventEmitter<WebhookEvents> {
  private readonly queues = new Map<string, CallWebhookQueue>();

  /**
   * `callsMoveOnShutdown`: a cluster node's calls go on on another node when it shuts down (that
   * node posts their next changes): the end of each call here is not the call's end, and is not
   * posted. The legs that lost their media here did leave: their `left` is posted.
   */
  constructor(
    private readonly service: CallService,
    private readonly options: WebhookOptions,
    private readonly log: Logger,
    private readonly callsMoveOnShutdown = false,
  ) {
    super();
    service.on('roster', (call, change) => this.onRoster(call, change));
  }

  /** Waits (at most `timeoutMs`) for every queued notification to be delivered or given up. */
  async flush(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.queues.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  close(): void {
    for (const queue of this.queues.values()) queue.stop();
    this.queues.clear();
  }

  private onRoster(call: Call, change: RosterChange): void {
    if (!call.callbackUri) return;
    if (change.kind === 'callEnded' && this.callsMoveOnShutdown && this.service.shuttingDown) {
      // What is queued for the call is still delivered; its end here is not posted.
      this.queues.get(call.id)?.end();
      return;
    }
    let queue = this.queues.get(call.id);
    if (!queue) {
      queue = new CallWebhookQueue(
        call.id,
        call.callbackUri,
        this.options,
        (outcome) => this.emit('outcome', outcome, call.id),
        () => this.queues.delete(call.id),
        this.log.child({ callId: call.id }),
      );
      this.queues.set(call.id, queue);
    }
    queue.push({
      kind: change.kind,
      participantId: change.kind === 'callEnded' ? '' : change.participant.id,
      notification: rosterChangeNotification(call, change),
    });
    if (change.kind === 'callEnded') queue.end();
  }
}
