import { describe, expect, it } from 'vitest';
import { analyzeMute } from '../../native-bench/lib/probeAnalysis.js';
import { cdf, quantile, ratio, summarize } from '../../native-bench/lib/stats.js';

describe('bench statistics', () => {
  it('interpolates quantiles between closest ranks', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantile(sorted, 0.5)).toBeCloseTo(5.5);
    expect(quantile(sorted, 0.9)).toBeCloseTo(9.1);
    expect(quantile(sorted, 0)).toBe(1);
    expect(quantile(sorted, 1)).toBe(10);
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantile([42], 0.99)).toBe(42);
  });

  it('summarizes samples, ignoring NaN', () => {
    const s = summarize([5, 1, NaN, 3, 2, 4]);
    expect(s).toMatchObject({ count: 5, min: 1, max: 5, p50: 3, mean: 3 });
    expect(s.p99).toBeCloseTo(4.96);
    expect(summarize([]).count).toBe(0);
  });

  it('builds an empirical CDF and ratios', () => {
    expect(cdf([3, 1, 2])).toEqual([
      [1, 1 / 3],
      [2, 2 / 3],
      [3, 1],
    ]);
    expect(ratio(2, 1)).toBe(2);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(NaN, 1)).toBeNaN();
  });
});

describe('probe analysis', () => {
  // One packet per ms: counter c sent at t = 1000 + c, arriving 0.2 ms later unless said otherwise.
  const sentAt = Array.from({ length: 2000 }, (_, c) => 1000 + c);
  const arrivals = (counters: number[], late: Record<number, number> = {}) =>
    new Map(counters.map((c) => [c, late[c] ?? (sentAt[c] as number) + 0.2]));

  it('brackets enforcement between the last forwarded and the first dropped packet', () => {
    // Mute requested at t=1500, worker paused between packets 502 and 503 (t 1502/1503), ack at 1504.
    // Unmute requested at t=1800, first packet forwarded again: 805.
    const forwarded = arrivals([...Array.from({ length: 503 }, (_, c) => c), ...Array.from({ length: 1195 }, (_, i) => 805 + i)]);
    const r = analyzeMute(sentAt, forwarded, { requestAt: 1500, ackAt: 1504, unmuteRequestAt: 1800, unmuteAckAt: 1803 });
    expect(r.apiLatencyMs).toBe(4);
    expect(r.enforcementLowMs).toBe(2);
    expect(r.enforcementHighMs).toBe(3);
    expect(r.leakAfterAck).toBe(0);
    expect(r.unmuteFirstForwardedMs).toBe(5);
    expect(r.unmuteApiLatencyMs).toBe(3);
  });

  it('counts packets sent after the ack and forwarded before the unmute request as leaks', () => {
    const forwarded = arrivals(Array.from({ length: 2000 }, (_, c) => c).filter((c) => c < 503 || c === 510 || c === 700 || c >= 805));
    const r = analyzeMute(sentAt, forwarded, { requestAt: 1500, ackAt: 1504, unmuteRequestAt: 1800, unmuteAckAt: 1803 });
    expect(r.leakAfterAck).toBe(2);
    expect(r.forwardedAcrossUnmute).toBe(0);
    expect(r.enforcementLowMs).toBe(200); // the last forwarded packet before the unmute was 700
  });

  it('does not call a packet that was in flight when the unmute was applied a leak', () => {
    // Packet 799 was sent 1 ms before the unmute request but arrived after it (queued in the worker).
    const forwarded = arrivals(Array.from({ length: 2000 }, (_, c) => c).filter((c) => c < 503 || c === 799 || c >= 805), { 799: 1802 });
    const r = analyzeMute(sentAt, forwarded, { requestAt: 1500, ackAt: 1504, unmuteRequestAt: 1800, unmuteAckAt: 1803 });
    expect(r.leakAfterAck).toBe(0);
    expect(r.forwardedAcrossUnmute).toBe(1);
  });

  it('reports NaN bounds when nothing was forwarded around the mute', () => {
    const r = analyzeMute(sentAt, new Map(), { requestAt: 1500, ackAt: 1504, unmuteRequestAt: 1800, unmuteAckAt: 1803 });
    expect(r.enforcementLowMs).toBeNaN();
    expect(r.unmuteFirstForwardedMs).toBeNaN();
  });
});
