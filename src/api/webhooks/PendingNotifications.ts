import type { RosterChange } from '../../control/CallService.js';
import type { CommsNotifications } from '../graph/notifications.js';

/** One queued notification, with what the queue needs to know to merge it. */
export interface PendingNotification {
  readonly kind: RosterChange['kind'];
  /** The participant it is about ('' for callEnded). */
  readonly participantId: string;
  readonly notification: CommsNotifications;
}

/** What became of the notifications a push displaced: replaced by newer news, or dropped (queue full). */
export interface PushResult {
  superseded: number;
  dropped: number;
}

/**
 * One call's webhook notifications that have not been sent yet, bounded, in order. While the
 * receiver keeps up (the queue is less than half full) every change is sent. Once it backs up, a
 * roster notification carrying the participant's whole state lets newer news replace older news
 * about the same participant instead of queueing behind it: an `updated` supersedes a queued `updated` of
 * the same participant, and a `left` cancels a `joined` the receiver has not heard yet. So one
 * participant toggling its hand (or rejoining) in a loop holds at most one or two places, and the
 * backend still hears everyone else's changes and the end of the call. Superseded notifications
 * leave gaps in `@mutegate.sequence`; sequence order is kept.
 *
 * The head (index 0) may be in flight (`headInFlight`): it is never touched.
 */
export class PendingNotifications {
  private readonly items: PendingNotification[] = [];

  constructor(private readonly capacity: number) {}

  get length(): number {
    return this.items.length;
  }

  head(): PendingNotification | undefined {
    return this.items[0];
  }

  shift(): void {
    this.items.shift();
  }

  clear(): void {
    this.items.length = 0;
  }

  push(item: PendingNotification, headInFlight: boolean): PushResult {
    const result: PushResult = { superseded: 0, dropped: 0 };
    const first = headInFlight ? 1 : 0;
    const removeWhere = (match: (queued: PendingNotification) => boolean): number => {
      let removed = 0;
      for (let i = this.items.length - 1; i >= first; i--) {
        if (match(this.items[i] as PendingNotification)) {
          this.items.splice(i, 1);
          removed++;
        }
      }
      return removed;
    };
    const sameParticipant = (queued: PendingNotification) => queued.participantId === item.participantId;

    // Only a backed-up queue merges: while the receiver keeps up, it hears every change.
    const backedUp = this.items.length >= this.capacity / 2;
    if (backedUp && item.kind === 'updated') {
      result.superseded += removeWhere((q) => sameParticipant(q) && q.kind === 'updated');
    } else if (backedUp && item.kind === 'left') {
      const unannounced = this.items.slice(first).some((q) => sameParticipant(q) && q.kind === 'joined');
      // Whatever is queued about a participant that has left is old news; if the receiver never
      // heard it join, it need not hear of it at all.
      result.superseded += removeWhere((q) => sameParticipant(q) && q.kind !== 'left');
      if (unannounced) {
        result.superseded++;
        return result;
      }
    }

    if (this.items.length >= this.capacity && item.kind !== 'callEnded') {
      // Full: the oldest unsent state update goes first (newer news about that participant may
      // follow); joins, leaves and the end of the call are kept while anything else can go.
      const oldestUpdate = this.items.findIndex((q, i) => i >= first && q.kind === 'updated');
      if (oldestUpdate >= 0) {
        this.items.splice(oldestUpdate, 1);
        result.dropped++;
      } else {
        result.dropped++;
        return result;
      }
    }
    this.items.push(item);
    return result;
  }
}
