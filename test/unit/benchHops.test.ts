import { describe, expect, it } from 'vitest';
import { HopRecorder, hopTable, parseServerTiming } from '../../native-bench/lib/hops.js';
import { serverTiming } from '../../src/api/http/serverTiming.js';

describe('native-bench hop breakdown', () => {
  it('reads the Server-Timing the gateway writes, hop by hop', () => {
    const ms = (n: number) => BigInt(Math.round(n * 1e6));
    const header = serverTiming(
      {
        receivedAt: ms(9.98),
        routedAt: ms(10),
        authenticatedAt: ms(10.1),
        handlerAt: ms(10.15),
        answeredAt: ms(10.6),
        operation: { queuedAt: ms(10.2), startedAt: ms(10.21), mediaRequestedAt: ms(10.22), mediaConfirmedAt: ms(10.52), finishedAt: ms(10.55) },
      },
      ms(10.7),
    );
    expect(parseServerTiming(header)).toEqual({
      route: 0.02,
      auth: 0.1,
      parse: 0.05,
      command: 0.05,
      queue: 0.02,
      worker: 0.3,
      apply: 0.03,
      resume: 0.05,
      reply: 0.1,
      total: 0.72,
    });
    // Other servers' forms: descriptions, quoted durations, metrics without a duration.
    expect(parseServerTiming('db;desc="x";dur=1.5, cache;dur="2", miss')).toEqual({ db: 1.5, cache: 2 });
  });

  it('summarizes per hop, counts what the client saw outside the gateway, and starts over after take()', () => {
    const recorder = new HopRecorder();
    recorder.record('auth;dur=0.1, worker;dur=0.2, total;dur=0.5', 1.5);
    recorder.record('auth;dur=0.3, total;dur=0.7', 1.0);
    recorder.record(undefined, 9); // no header (another transport): skipped
    const hops = recorder.take();
    expect(hops?.samples).toBe(2);
    expect(hops?.auth.p50).toBeCloseTo(0.2);
    expect(hops?.worker.max).toBeCloseTo(0.2);
    expect(hops?.worker.min).toBe(0); // not reported: took no time on that request
    expect(hops?.outside.max).toBeCloseTo(1.0);
    expect(recorder.take()).toBeUndefined();
    expect(hopTable([{ label: 'N = 10', hops: hops as NonNullable<typeof hops> }]).join('\n')).toContain('| worker | media worker round trip');
  });
});
