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
 * mostly muted, the usual case, paid for it per participant. With the budget, up to `pollsPerSecond / 2` muted
 * producers are read every 500 ms; beyond that each is read less often, in turn (every
 * `muted / pollsPerSecond` seconds), so the signal comes later but the cost stays fixed.
 *
 * Producers are read in the order they became due (a queue: a producer read goes to its back),
 * every TICK_MS at most `pollsPerSecond × TICK_MS / 1000` at a time, so that a mute's pause never
 * waits in a worker's channel behind hundreds of stats requests asked at once. A reading not
 * answered yet (a saturated worker) is not asked again, and no more than one tick's share is in
 * flight: a slow worker slows the readings down instead of piling them up.
 */
export class MutedSpeechPoller {
  private readonly queue: WatchedProducer[] = [];
  private head = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly perTick: number;

  /** `pollsPerSecond` 0: nothing is read (talkingWhileMuted never turns true). */
  constructor(readonly pollsPerSecond: number = DEFAULT_MUTED_SPEECH_POLLS_PER_SECOND) {
    this.perTick = Math.max(1, Math.ceil((pollsPerSecond * TICK_MS) / 1000));
  }

  get enabled(): boolean {
    return this.pollsPerSecond > 0;
  }

  /** Producers waiting for a reading (tests, diagnostics). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** A producer to read, due at once (its detector started watching it). */
  enqueue(entry: WatchedProducer): void {
    if (!this.enabled) return;
    entry.dueAt = 0;
    this.queue.push(entry);
    this.timer ??= setInterval(() => this.tick(), TICK_MS).unref();
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.queue.length = this.head = 0;
  }

  private tick(): void {
    const now = Date.now();
    let asked = 0;
    while (this.head < this.queue.length && asked < this.perTick && this.inFlight < this.perTick) {
      const entry = this.queue[this.head] as WatchedProducer;
      if (entry.watching && entry.dueAt > now) break; // the queue is in due order: nothing further is due
      this.head++;
      if (!entry.watching) continue; // unwatched (resumed, closed): dropped here, lazily
      asked++;
      this.inFlight++;
      void this.read(entry.detector, entry);
    }
    this.compact();
  }

  private async read(detector: MutedSpeechDetector, entry: WatchedProducer): Promise<void> {
    try {
      await detector.sample(entry);
    } finally {
      this.inFlight--;
      if (entry.watching) {
        entry.dueAt = Date.now() + POLL_INTERVAL_MS;
        this.queue.push(entry);
      }
    }
  }

  /** Drops what was taken from the front; stops the timer when nothing is left to read. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.head === this.queue.length && this.inFlight === 0) {
      this.queue.length = this.head = 0;
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
