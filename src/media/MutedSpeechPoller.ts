import type { MutedSpeechDetector, WatchedProducer } from './MutedSpeechDetector.js';

/** How long at least between two readings of one muted producer's counters. */
export const POLL_INTERVAL_MS = 500;
/** How often the poller looks for producers that are due (small bursts, not one per 500 ms). */
export const TICK_MS = 50;
/** Default of `media.mutedSpeechPollsPerSecond`. */
export const DEFAULT_MUTED_SPEECH_POLLS_PER_SECOND = 400;

/**
 * Reads the receive counters of every muted producer of the gateway for talking-while-muted
 * (MutedSpeechDetector), within one budget of stats requests per second for all calls together
 * (`media.mutedSpeechPollsPerSecond`).
 *
 * Each reading is a request to the worker and its answer (~0.1 ms of the gateway's CPU on the
 * 2-core VM of the benchmarks, plus the worker's). Read every 500 ms as before, per call, 1000
 * muted participants in two-person calls cost 9–12 % of a core in the gateway alone, without a
 * single API request (native-bench/mutedCost.ts, 2026-12-08); a server whose participants are
 * mostly muted, the usual case, paid for it per participant. With the budget, up to
 * `pollsPerSecond / 2` muted producers are read every 500 ms; beyond that each is read less
 * often, in turn (every `muted / pollsPerSecond` seconds), at the same cost.
 *
 * Producers are read in the order they became due (a queue: a producer read goes to its back),
 * every TICK_MS as many as the budget has accrued since (a fraction carries over), so that a
 * mute's pause never waits in a worker's channel behind hundreds of stats requests asked at once.
 * Each router (its detector: all on one worker) has at most one tick's share of readings
 * unanswered; a router whose worker answers late or not at all (a stalled worker: mediasoup's
 * requests have no timeout) has its producers passed over, so the other workers' calls are read
 * as usual and nothing piles up. Times are monotonic (performance.now()): a step of the wall
 * clock changes nothing.
 */
export class MutedSpeechPoller {
  private readonly queue: WatchedProducer[] = [];
  private head = 0;
  private readonly inFlight = new Map<MutedSpeechDetector, number>();
  private timer: NodeJS.Timeout | undefined;
  /** Readings the budget allows and that have not been asked yet (the fraction of one included). */
  private credit = 0;
  private readonly perTick: number;

  /** `pollsPerSecond` 0: nothing is read (talkingWhileMuted never turns true). */
  constructor(readonly pollsPerSecond: number = DEFAULT_MUTED_SPEECH_POLLS_PER_SECOND) {
    this.perTick = (pollsPerSecond * TICK_MS) / 1000;
  }

  get enabled(): boolean {
    return this.pollsPerSecond > 0;
  }

  /** Producers waiting for a reading (tests, diagnostics). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** A producer to read once due (its detector started watching it). */
  enqueue(entry: WatchedProducer): void {
    if (!this.enabled) return;
    this.queue.push(entry);
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  private tick(): void {
    const now = performance.now();
    // Only a fraction is carried over: an idle spell does not buy a burst later.
    this.credit = Math.min(this.credit + this.perTick, this.perTick + 1);
    // Each entry is looked at once per tick at most: one passed over goes to the back.
    for (let examined = this.queued; examined > 0 && this.credit >= 1; examined--) {
      const entry = this.queue[this.head] as WatchedProducer;
      if (!entry.watching) {
        this.head++; // unwatched (resumed, closed): dropped here
        continue;
      }
      if (entry.dueAt > now) break; // in due order, nearly: nothing much further is due
      this.head++;
      const pending = this.inFlight.get(entry.detector) ?? 0;
      if (pending >= Math.max(1, this.perTick)) {
        this.queue.push(entry); // its worker has not answered the last ones: the others go first
        continue;
      }
      this.credit -= 1;
      this.inFlight.set(entry.detector, pending + 1);
      entry.dueAt = now + POLL_INTERVAL_MS;
      void this.read(entry);
    }
    this.compact();
  }

  private async read(entry: WatchedProducer): Promise<void> {
    try {
      await entry.detector.sample(entry);
    } finally {
      const left = (this.inFlight.get(entry.detector) ?? 1) - 1;
      if (left > 0) this.inFlight.set(entry.detector, left);
      else this.inFlight.delete(entry.detector);
      if (entry.watching) this.queue.push(entry);
    }
  }

  /** Drops what was taken from the front; stops the timer when nothing is left to read. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.head === this.queue.length && this.inFlight.size === 0) {
      this.queue.length = this.head = 0;
      this.credit = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
