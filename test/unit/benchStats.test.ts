import { describe, expect, it } from 'vitest';
import { analyzeMute } from '../../native-bench/lib/probeAnalysis.js';
import { childPids, processCpuSeconds, startCpuWindow, threadCpuSeconds } from '../../native-bench/lib/procCpu.js';
import { targetsIn } from '../../native-bench/lib/report.js';
import { cdf, quantile, ratio, summarize } from '../../native-bench/lib/stats.js';
import { shortfall } from '../../native-bench/lib/throughput.js';

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
    expect(r.enforcementLowMs).toBe(2); // the unmute let 799 through: the mute's bound is still 502
  });

  it('reports NaN bounds when nothing was forwarded around the mute', () => {
    const r = analyzeMute(sentAt, new Map(), { requestAt: 1500, ackAt: 1504, unmuteRequestAt: 1800, unmuteAckAt: 1803 });
    expect(r.enforcementLowMs).toBeNaN();
    expect(r.unmuteFirstForwardedMs).toBeNaN();
  });
});

describe('throughput steps', () => {
  const ok = { targetRate: 1000, achievedRate: 990, ops: 1000, errors: 0, late: 3, leftBehind: 0, p50Ms: 1, p99Ms: 9 };

  it('sustains a step only with no errors, nobody left behind, the rate achieved and p99 under the limit', () => {
    expect(shortfall(ok, 10)).toBeNull();
    expect(shortfall({ ...ok, errors: 1 }, 10)).toContain('errors');
    expect(shortfall({ ...ok, leftBehind: 2 }, 10)).toContain('left behind');
    expect(shortfall({ ...ok, achievedRate: 900 }, 10)).toContain('achieved');
    expect(shortfall({ ...ok, p99Ms: 10.5 }, 10)).toContain('p99');
    expect(shortfall({ ...ok, p99Ms: NaN }, 10)).toContain('p99'); // nothing completed is not a pass
  });
});

describe('report helpers', () => {
  it('lists targets in measured order with raw last', () => {
    expect(targetsIn([{ target: 'raw' }, { target: 'ours' }, { target: 'ours-ws' }, { target: 'raw' }])).toEqual(['ours', 'ours-ws', 'raw']);
  });
});

describe.runIf(process.platform === 'linux')('CPU from /proc', () => {
  it('reads this process and its main thread, and turns readings into percent of a core', () => {
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(threadCpuSeconds(process.pid, process.pid)).toBeGreaterThan(0);
    expect(threadCpuSeconds(process.pid, process.pid)).toBeLessThanOrEqual(processCpuSeconds(process.pid) + 0.01);
    expect(processCpuSeconds(2 ** 22 + 12345)).toBeNaN(); // no such process
    expect(childPids(process.ppid)).toContain(process.pid);
    let seconds = 10;
    const stop = startCpuWindow([{ name: 'fake', read: () => seconds }]);
    seconds += 1000; // far more than any window this test can take: ≥ 100 %
    expect(stop().fake).toBeGreaterThan(100);
  });
});
