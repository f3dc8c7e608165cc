/**
 * When the bench's mute client thread (which sends the mutes and reads their answers) did not run
 * while a mute was in flight: a 1 ms timer, running only from each request until just after its
 * answer, notes every gap of more than STALL_MS between its firings (the thread waited for a CPU,
 * or was busy), and a PerformanceObserver notes the thread's own GC pauses. Each mute's round
 * trip is then charged with the stalls and GC inside it (overlapMs): time in "outside" that is
 * the bench client's doing, not the kernel's or the gateway's. The timer does not run between
 * mutes, so that it neither wakes the thread nor feeds its garbage collector for nothing.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { nowMs } from '../RtpPeer.js';

/** A gap longer than this between 1 ms timer firings counts as a stall (the timer itself fires every ~1.1 ms). */
export const STALL_MS = 2;
/** After an answer the timer runs this much longer: a stall that ended with the answer shows only at its next firing. */
const AFTER_MS = 2;

export type Interval = readonly [from: number, to: number];

/** How much of [from, to] the intervals cover (they may overlap each other: their union counts). Pure. */
export function overlapMs(intervals: readonly Interval[], from: number, to: number): number {
  const clipped = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let end = -Infinity;
  for (const [a, b] of clipped) {
    if (b <= end) continue;
    covered += b - Math.max(a, end);
    end = b;
  }
  return covered;
}

export class StallRecorder {
  /** Stretches (bench clock, ms) in which the 1 ms timer should have fired and did not. */
  readonly stalls: Interval[] = [];
  /** The thread's own GC pauses (bench clock, ms). */
  readonly gcPauses: Interval[] = [];
  private readonly observer: PerformanceObserver;

  constructor() {
    // performance.now() and the bench clock (hrtime) are both monotonic: one offset maps them.
    const offset = nowMs() - performance.now();
    this.observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.gcPauses.push([e.startTime + offset, e.startTime + offset + e.duration]);
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** Runs `work` with the stall timer on, until AFTER_MS after it settled. */
  async watch<T>(work: () => Promise<T>): Promise<T> {
    let last = nowMs();
    const timer = setInterval(() => {
      const now = nowMs();
      // The first millisecond of a gap is the timer's own interval.
      if (now - last > STALL_MS) this.stalls.push([last + 1, now]);
      last = now;
    }, 1);
    try {
      return await work();
    } finally {
      await new Promise((resolve) => setTimeout(resolve, AFTER_MS));
      clearInterval(timer);
      const now = nowMs();
      if (now - last > STALL_MS) this.stalls.push([last + 1, now]);
    }
  }

  stop(): void {
    this.observer.disconnect();
  }
}
