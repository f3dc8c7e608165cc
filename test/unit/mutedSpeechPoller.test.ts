import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MutedSpeechDetector } from '../../src/media/MutedSpeechDetector.js';
import { MutedSpeechPoller, POLL_INTERVAL_MS, TICK_MS } from '../../src/media/MutedSpeechPoller.js';

/**
 * A producer as the detector sees it: paused or not, its observer's events, and getStats() with
 * counters that rise like a speaker's (50 packets/s of 100 bytes) from when it was created.
 * Every getStats() is recorded with its time.
 */
class FakeProducer {
  readonly observer = new EventEmitter();
  closed = false;
  readonly reads: number[] = [];
  private readonly since = Date.now();
  /** How long the worker takes to answer getStats (a saturated worker: long; a stalled one: never). */
  answerAfterMs = 1;

  constructor(public paused: boolean) {}

  async getStats(): Promise<{ packetCount: number; byteCount: number }[]> {
    this.reads.push(Date.now());
    if (this.answerAfterMs === Infinity) await new Promise(() => undefined);
    await new Promise((r) => setTimeout(r, this.answerAfterMs));
    const packets = Math.floor(((Date.now() - this.since) * 50) / 1000);
    return [{ packetCount: packets, byteCount: packets * 100 }];
  }

  pause(): void {
    this.paused = true;
    this.observer.emit('pause');
  }

  resume(): void {
    this.paused = false;
    this.observer.emit('resume');
  }
}

const asProducer = (p: FakeProducer) => p as unknown as types.Producer;

describe('MutedSpeechPoller: one budget of readings for every call', () => {
  beforeEach(() => {
    // performance.now() too: the poller's times are monotonic.
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** `calls` detectors (one per call router) with `perCall` muted producers each. */
  function muted(poller: MutedSpeechPoller, calls: number, perCall: number, tag = 'p') {
    const reports: [string, boolean][] = [];
    const producers: FakeProducer[] = [];
    for (let c = 0; c < calls; c++) {
      const detector = new MutedSpeechDetector(poller, (id, talking) => reports.push([id, talking]));
      for (let i = 0; i < perCall; i++) {
        const producer = new FakeProducer(true);
        detector.addProducer(`${tag}${c}-${i}`, asProducer(producer));
        producers.push(producer);
      }
    }
    return { reports, producers };
  }
  const readsOf = (producers: FakeProducer[]) => producers.reduce((sum, p) => sum + p.reads.length, 0);

  it('reads each muted producer every 500 ms while the budget covers them all, and finds them talking', async () => {
    const poller = new MutedSpeechPoller(400);
    const { reports, producers } = muted(poller, 50, 2); // 100 muted: 200 readings/s needed
    await vi.advanceTimersByTimeAsync(3000);
    for (const p of producers) {
      // Read as soon as watched, then every 500 ms (+ a tick and the answer's millisecond).
      expect(p.reads.length).toBeGreaterThanOrEqual(5);
      expect(p.reads.length).toBeLessThanOrEqual(7);
      const gaps = p.reads.slice(1).map((t, i) => t - (p.reads[i] as number));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(POLL_INTERVAL_MS);
    }
    expect(new Set(reports.filter(([, t]) => t).map(([id]) => id)).size).toBe(100);
  });

  it('never asks more than the budget, however many are muted, and reads every one in turn', async () => {
    const poller = new MutedSpeechPoller(400);
    const { reports, producers } = muted(poller, 500, 2); // 1000 muted: 2000 readings/s at 500 ms
    const seconds = 10;
    await vi.advanceTimersByTimeAsync(seconds * 1000);
    const reads = producers.reduce((sum, p) => sum + p.reads.length, 0);
    // Within the budget (a tick's share may round up): was 2000/s, one request per router timer.
    expect(reads).toBeLessThanOrEqual(400 * seconds * 1.05);
    expect(reads).toBeGreaterThanOrEqual(400 * seconds * 0.9);
    // In turn: nobody starved, nobody read much more often than the others (every ~2.5 s).
    const counts = producers.map((p) => p.reads.length);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...counts)).toBeLessThanOrEqual(5);
    // No burst: at most a tick's share asked within any one tick.
    const byTick = new Map<number, number>();
    for (const p of producers) for (const t of p.reads) byTick.set(Math.floor(t / TICK_MS), (byTick.get(Math.floor(t / TICK_MS)) ?? 0) + 1);
    expect(Math.max(...byTick.values())).toBeLessThanOrEqual((400 * TICK_MS) / 1000);
    // Slower, still found: two readings ~2.5 s apart show the speech.
    expect(new Set(reports.filter(([, t]) => t).map(([id]) => id)).size).toBe(1000);
  });

  it('keeps small budgets too (a fraction of a reading per tick carries over)', async () => {
    for (const perSecond of [1, 5, 30, 410]) {
      const poller = new MutedSpeechPoller(perSecond);
      const { producers } = muted(poller, 1, 2000);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(readsOf(producers) / 10, `${perSecond} per second`).toBeLessThanOrEqual(perSecond * 1.05);
      expect(readsOf(producers) / 10, `${perSecond} per second`).toBeGreaterThanOrEqual(perSecond * 0.9);
      for (const p of producers) p.resume();
      await vi.advanceTimersByTimeAsync(TICK_MS);
    }
  });

  it("passes over a router whose worker does not answer: other calls are read as usual, nothing piles up", async () => {
    const poller = new MutedSpeechPoller(400);
    const stalled = muted(poller, 1, 40, 'stalled');
    for (const p of stalled.producers) p.answerAfterMs = Infinity; // mediasoup's requests have no timeout
    const slow = muted(poller, 1, 40, 'slow');
    for (const p of slow.producers) p.answerAfterMs = 400;
    const healthy = muted(poller, 1, 40, 'healthy');
    await vi.advanceTimersByTimeAsync(10_000);
    // The stalled router: one tick's share asked, then passed over (never asked again while unanswered).
    expect(readsOf(stalled.producers)).toBe((400 * TICK_MS) / 1000);
    // The healthy one: every producer every 500 ms as if nothing else were there (~20 in 10 s).
    expect(Math.min(...healthy.producers.map((p) => p.reads.length))).toBeGreaterThanOrEqual(17);
    expect(new Set(healthy.reports.filter(([, t]) => t).map(([id]) => id)).size).toBe(40);
    // The slow one: never more than a tick's share unanswered, still read in turn.
    expect(Math.min(...slow.producers.map((p) => p.reads.length))).toBeGreaterThanOrEqual(3);
    // Muting and unmuting over and over meanwhile does not grow the queue (unwatched entries are dropped).
    const churner = healthy.producers[0] as FakeProducer;
    for (let i = 0; i < 10_000; i++) {
      churner.resume();
      churner.pause();
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(poller.queued).toBeLessThanOrEqual(120);
    // …nor read the churner more often than every 500 ms.
    const gaps = churner.reads.slice(1).map((t, i) => t - (churner.reads[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(POLL_INTERVAL_MS);
  });

  it('goes on reading when the wall clock is set back (times are monotonic)', async () => {
    const poller = new MutedSpeechPoller(400);
    const { producers } = muted(poller, 1, 10);
    await vi.advanceTimersByTimeAsync(2000);
    const before = readsOf(producers);
    vi.setSystemTime(Date.now() - 3_600_000); // an NTP step back by an hour
    await vi.advanceTimersByTimeAsync(5000);
    expect(readsOf(producers) - before).toBeGreaterThanOrEqual(90);
  });

  it('stops reading a producer once it is resumed or closed, and its timer once nothing is muted', async () => {
    const poller = new MutedSpeechPoller(400);
    const { reports, producers } = muted(poller, 1, 3);
    await vi.advanceTimersByTimeAsync(1200);
    expect(reports).toContainEqual(['p0-0', true]);
    const [a, b, c] = producers as [FakeProducer, FakeProducer, FakeProducer];
    a.resume();
    expect(reports.at(-1)).toEqual(['p0-0', false]); // false at once on unmute
    b.closed = true;
    b.observer.emit('close');
    const before = [a.reads.length, b.reads.length];
    await vi.advanceTimersByTimeAsync(2000);
    expect([a.reads.length, b.reads.length]).toEqual(before);
    c.resume();
    await vi.advanceTimersByTimeAsync(2 * TICK_MS);
    expect(poller.queued).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    // Muted again: watched again.
    c.pause();
    await vi.advanceTimersByTimeAsync(1200);
    expect(reports.at(-1)).toEqual(['p0-2', true]);
  });

  it('reads nothing when switched off (0 per second)', async () => {
    const poller = new MutedSpeechPoller(0);
    const { reports, producers } = muted(poller, 2, 2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(producers.every((p) => p.reads.length === 0)).toBe(true);
    expect(reports).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
