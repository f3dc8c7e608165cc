import type { types } from 'mediasoup';
import type { PoolWorker } from './WorkerPool.js';

/**
 * One mediasoup router of a call, on one worker (a call has at most one router per worker), and
 * the participants whose endpoints live in it. Closing it on purpose (retire) is told apart from
 * losing it (its worker died), which loses the call's media.
 */
export class RouterOfCall {
  private readonly members = new Set<string>();
  private retired = false;

  constructor(
    readonly router: types.Router,
    readonly worker: PoolWorker,
  ) {}

  get participantCount(): number {
    return this.members.size;
  }

  get closed(): boolean {
    return this.router.closed;
  }

  /** Closed by the call (it emptied, or the call ended), not lost underneath it. */
  get closedOnPurpose(): boolean {
    return this.retired;
  }

  has(participantId: string): boolean {
    return this.members.has(participantId);
  }

  add(participantId: string): void {
    this.members.add(participantId);
  }

  remove(participantId: string): void {
    this.members.delete(participantId);
  }

  /** Closes the router (its transports, producers, consumers and pipes) on purpose. Idempotent. */
  retire(): void {
    this.retired = true;
    this.router.close();
  }
}
