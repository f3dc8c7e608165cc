import { describe, expect, it } from 'vitest';
import { audioLevelExtension, encodeRtpWithExtension, readAudioLevel } from '../../native-bench/lib/bigcall/audioLevel.js';
import { accountDelivery, firstArrivals, type ReceivedColumns } from '../../native-bench/lib/bigcall/delivery.js';
import { parseUdpDrops } from '../../native-bench/lib/bigcall/discardSocket.js';
import { overlapMs } from '../../native-bench/lib/bigcall/benchStalls.js';
import { loopWindow, parseGatewayLoop } from '../../native-bench/lib/bigcall/gatewayLoop.js';
import { breakdownMarkdown, muteBreakdown, nearestRank } from '../../native-bench/lib/bigcall/muteBreakdown.js';
import { runMuteCycles, type MuteTiming } from '../../native-bench/lib/bigcall/muteCycles.js';
import { MuteRejected } from '../../native-bench/lib/muteClient.js';
import type { StepResult } from '../../native-bench/lib/bigcall/stepResult.js';
import { planTalkers } from '../../native-bench/lib/bigcall/talkerPlan.js';
import { bigCallMarkdown } from '../../native-bench/lib/bigcall/report.js';
import { largestSupported, stepFailure, supported, targets, whyNotSupported } from '../../native-bench/lib/bigcall/verdict.js';
import { decodeProbe, decodeRtp, encodeProbe } from '../../native-bench/lib/rtp.js';
import { summarize } from '../../native-bench/lib/stats.js';

describe('ssrc-audio-level one-byte header extension (RFC 5285 / RFC 6464)', () => {
  it('writes 0xBEDE, one word, the id/len nibble and V + level, padded', () => {
    expect([...audioLevelExtension({ id: 1, levelDbov: 20, voice: true })]).toEqual([0xbe, 0xde, 0x00, 0x01, 0x10, 0x80 | 20, 0, 0]);
    expect([...audioLevelExtension({ id: 14, levelDbov: 127, voice: false })]).toEqual([0xbe, 0xde, 0x00, 0x01, 0xe0, 127, 0, 0]);
  });

  it('refuses reserved ids and levels outside 0–127', () => {
    expect(() => audioLevelExtension({ id: 0, levelDbov: 20, voice: true })).toThrow(RangeError);
    expect(() => audioLevelExtension({ id: 15, levelDbov: 20, voice: true })).toThrow(RangeError);
    expect(() => audioLevelExtension({ id: 1, levelDbov: 128, voice: true })).toThrow(RangeError);
  });

  it('sets the X bit; the payload still decodes and the level reads back', () => {
    const payload = encodeProbe({ senderId: 7, counter: 3, sentAtMs: 12.5 }, 80);
    const packet = encodeRtpWithExtension({ payloadType: 100, sequenceNumber: 1, timestamp: 960, ssrc: 42, marker: false, payload }, audioLevelExtension({ id: 3, levelDbov: 70, voice: false }));
    expect(packet.length).toBe(12 + 8 + 80);
    expect(packet[0]! & 0x10).toBe(0x10);
    const rtp = decodeRtp(packet);
    expect(rtp?.ssrc).toBe(42);
    expect(decodeProbe(rtp!.payload)).toEqual({ senderId: 7, counter: 3, sentAtMs: 12.5 });
    expect(readAudioLevel(packet, 3)).toEqual({ levelDbov: 70, voice: false });
    expect(readAudioLevel(packet, 4)).toBeNull();
  });
});

describe('big-call talker plan', () => {
  it('loud first, sampled receivers and quiet victims spread over the rest', () => {
    const plan = planTalkers(50, { loud: 3, sampledReceivers: 8, victims: 4 });
    expect(plan.slice(0, 3).every((t) => t.role === 'loud')).toBe(true);
    const sampled = plan.filter((t) => t.sampled !== null);
    expect(sampled.map((t) => t.sampled)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(sampled.every((t) => t.role !== 'loud' && !t.victim)).toBe(true);
    const victims = plan.filter((t) => t.victim);
    expect(victims).toHaveLength(4);
    expect(victims.every((t) => t.role === 'quiet')).toBe(true);
    expect(new Set(plan.map((t) => t.senderId)).size).toBe(50);
    expect(Math.max(...sampled.map((t) => t.index))).toBeGreaterThan(40);
  });

  it('fits small calls', () => {
    const plan = planTalkers(5, { loud: 3, sampledReceivers: 8, victims: 4 });
    expect(plan.filter((t) => t.sampled !== null)).toHaveLength(1);
    expect(plan.filter((t) => t.victim)).toHaveLength(1);
    const ten = planTalkers(10, { loud: 3, sampledReceivers: 8, victims: 4 });
    expect(ten.filter((t) => t.sampled !== null)).toHaveLength(4);
    expect(ten.filter((t) => t.victim)).toHaveLength(3);
    expect(ten.filter((t) => t.victim && t.sampled !== null)).toHaveLength(0);
  });
});

function columns(rows: [receiver: number, sender: number, counter: number, arrived: number, sent: number][]): ReceivedColumns {
  return {
    receiver: rows.map((r) => r[0]),
    senderId: rows.map((r) => r[1]),
    counter: rows.map((r) => r[2]),
    arrivedAtMs: rows.map((r) => r[3]),
    sentAtMs: rows.map((r) => r[4]),
  };
}

describe('big-call delivery accounting', () => {
  // Receivers: slot 0 is sender 10, slot 1 is sender 11. Sender 1 is loud, 2 quiet, 9 a victim.
  const receivers = new Map([
    [0, 10],
    [1, 11],
  ]);
  const window = new Map<number, readonly [number, number]>([
    [1, [100, 104]],
    [2, [50, 54]],
    [9, [0, 4]],
    [10, [0, 4]],
    [11, [0, 4]],
  ]);

  it('speakers mode: counts only the loud sender inside the window, once, and flags the rest', () => {
    const d = accountDelivery({
      received: columns([
        [0, 1, 100, 11, 10],
        [0, 1, 100, 12, 10], // duplicate
        [0, 1, 101, 33, 30],
        [0, 1, 99, 5, 0], // before the window
        [0, 1, 104, 5, 0], // after it
        [1, 1, 100, 15, 10],
        [1, 2, 50, 15, 10], // quiet: should not have been forwarded
        [0, 9, 1, 15, 10], // victim: ignored
        [7, 1, 100, 15, 10], // not a sampled receiver that joined
      ]),
      receivers,
      window,
      expected: new Set([1]),
      ignored: new Set([9]),
    });
    expect(d.expectedPackets).toBe(8);
    expect(d.receivedPackets).toBe(3);
    expect(d.ratio).toBeCloseTo(3 / 8);
    expect(d.worstReceiverRatio).toBeCloseTo(1 / 4);
    expect(d.latencyMs.sort()).toEqual([1, 3, 5]);
    expect(d.unexpectedPackets).toBe(1);
  });

  it('all mode: a receiver does not expect its own packets', () => {
    const d = accountDelivery({ received: columns([[0, 11, 0, 1, 0]]), receivers, window, expected: new Set([1, 2, 10, 11]), ignored: new Set([9]) });
    // Receiver 0 expects 1, 2, 11 (12 packets); receiver 1 expects 1, 2, 10 (12).
    expect(d.expectedPackets).toBe(24);
    expect(d.receivedPackets).toBe(1);
  });

  it('first arrival of each packet of one sender at any receiver', () => {
    const first = firstArrivals(
      columns([
        [0, 9, 1, 20, 0],
        [1, 9, 1, 15, 0],
        [0, 9, 2, 30, 0],
        [0, 8, 1, 1, 0],
      ]),
      9,
    );
    expect([...first]).toEqual([
      [1, 15],
      [2, 30],
    ]);
  });
});

describe('/proc/net/udp drops', () => {
  it('sums the drops column of the given loopback ports', () => {
    const text = [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      ' 4603: 0100007F:CC9D 00000000:0000 07 00000000:00034000 00:00000000 00000000     0        0 16117 2 0000000013612acf 4744',
      ' 4604: 0100007F:CC9E 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 16118 2 0000000013612acf 0',
      ' 4605: 00000000:CC9D 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 16119 2 0000000013612acf 9',
    ].join('\n');
    expect([...parseUdpDrops(text, [0xcc9d, 0xcc9e])]).toEqual([
      [0xcc9d, 4744],
      [0xcc9e, 0],
    ]);
  });
});

function step(overrides: Partial<StepResult> & { mode?: 'all' | 'speakers' }): StepResult {
  const { mode = 'speakers', ...rest } = overrides;
  const talkers = rest.talkers ?? 100;
  return {
    talkers,
    forwarding: mode === 'all' ? { mode: 'all' } : { mode: 'speakers', maxSpeakers: 3, silenceDbov: 50 },
    appliedForwarding: null,
    joins: { placed: talkers, refused: 0, timedOut: 0, notAttempted: 0, placedMs: summarize([5]), refusals: [], maxAnswerMs: 30 },
    sampledReceivers: { joined: 8, planned: 8 },
    steadySeconds: 10,
    delivery: { expectedPackets: 100, receivedPackets: 100, ratio: 1, worstReceiverRatio: 1, unexpectedPackets: 0 },
    oneWayMs: summarize([1, 2, 3]),
    cpu: { gateway: 1, workers: [], bench: 10 },
    mutes: { attempted: 20, acked: 20, failed: {}, timedOut: 0, ackMs: summarize([2, 3]), unmuteAckMs: summarize([2]), leakAfterAck: 0, results: [], victimPacketsForwarded: 0, leakCheckArmed: true },
    unsampledPacketsPerSecond: 0,
    bench: { sent: 0, skipped: 0, datagramsRead: 0, discardSocketsRead: false },
    failed: null,
    ...rest,
  };
}

describe('big-call verdicts and issue 13 targets', () => {
  it('a step clearly fails below 90 % delivery or with a mute not answered or not confirmed', () => {
    expect(stepFailure(step({}))).toBeNull();
    expect(stepFailure(step({ delivery: { expectedPackets: 100, receivedPackets: 80, ratio: 0.8, worstReceiverRatio: 0.8, unexpectedPackets: 0 } }))).toMatch(/delivery 80.0 %/);
    const base = step({});
    expect(stepFailure(step({ mutes: { ...base.mutes, timedOut: 1 } }))).toMatch(/not answered/);
    expect(stepFailure(step({ mutes: { ...base.mutes, failed: { 'mute 503': 2 } } }))).toMatch(/2 × mute 503/);
  });

  it('speakers mode that forwarded quiet talkers is not a supported call', () => {
    expect(supported(step({}))).toBe(true);
    expect(supported(step({ delivery: { expectedPackets: 1, receivedPackets: 1, ratio: 1, worstReceiverRatio: 1, unexpectedPackets: 5 } }))).toBe(false);
    expect(supported(step({ mode: 'all', delivery: { expectedPackets: 1, receivedPackets: 1, ratio: 1, worstReceiverRatio: 1, unexpectedPackets: 5 } }))).toBe(true);
    expect(supported(step({ oneWayMs: summarize([60]) }))).toBe(false);
    const refused = step({ talkers: 200 });
    refused.joins = { ...refused.joins, placed: 180, refused: 20 };
    expect(whyNotSupported(refused)).toEqual(['20 not placed (20 refused)']);
  });

  it('targets: the largest supported speakers call, its mute ack p99, leak and join answers', () => {
    const steps = [step({ talkers: 150 }), step({ talkers: 200, oneWayMs: summarize([80]) }), step({ mode: 'all', talkers: 50 })];
    expect(largestSupported(steps.filter((s) => s.forwarding.mode === 'speakers'))?.talkers).toBe(150);
    const rows = targets(steps);
    expect(rows.map((r) => r.met)).toEqual([false, true, true, true]);
    expect(rows[0]?.measured).toBe('150 (all mode: 50)');
    const slowJoin = step({ talkers: 200 });
    slowJoin.joins = { ...slowJoin.joins, refused: 1, refusals: [{ index: 199, ms: 1500, atSeconds: 20, code: 'mediaCapacityExceeded' }], maxAnswerMs: 1500 };
    expect(targets([slowJoin]).map((r) => r.met)).toEqual([true, true, true, false]);
  });
});

describe('big-call results.md', () => {
  it('has one table per mode, the verdicts and the targets', () => {
    const md = bigCallMarkdown({
      command: 'npm run bench -- --profile bigcall',
      machine: { cpuModel: 'cpu', cpuCount: 2, memoryBytes: 2 ** 30, node: 'v20', mediasoup: '3.13.16' },
      parameters: { packetsPerSecond: 50, payloadBytes: 80, audioLevelExtensionId: 1, audioLevel: true, loud: 3, sampledReceivers: 8, workers: 2, steadySeconds: 10, warmupSeconds: 2, mutes: 20, victims: 4, talkWhileMuted: true },
      steps: [step({ mode: 'all', talkers: 25 }), step({ talkers: 25 }), step({ talkers: 50, delivery: { expectedPackets: 10, receivedPackets: 5, ratio: 0.5, worstReceiverRatio: 0.5, unexpectedPackets: 0 }, failed: 'delivery 50.0 %' })],
      errors: [{ talkers: 50, forwarding: { mode: 'all' }, error: 'gateway exited' }],
      durationSeconds: 60,
    });
    expect(md).toContain('### Forwarding: all (everyone hears everyone)');
    expect(md).toContain('### Forwarding: speakers (the 3 loudest above -50 dBov)');
    expect(md).toMatch(/\| 25 \| 25 \/ 0 \/ 0 .*\| supported \|/);
    expect(md).toContain('fails: delivery 50.0 %');
    expect(md).toContain('step did not finish: gateway exited');
    expect(md).toContain('| leak after ack (every step, both modes) | 0 packets (60 mutes) | 0 | met |');
  });
});

describe('big-call mute cycles', () => {
  const victims = [
    { senderId: 1, participantId: 'a' },
    { senderId: 2, participantId: 'b' },
  ];

  it('mutes victims in turn, talking while muted, and times every window', async () => {
    const calls: string[] = [];
    const cycles = await runMuteCycles({
      victims,
      pairs: 3,
      timeoutMs: 1000,
      setMuted: async (id, muted) => void calls.push(`${muted ? 'mute' : 'unmute'} ${id}`),
      talking: async (senderId, whileMuted) => void calls.push(`${whileMuted ? 'talk' : 'quiet'} ${senderId}`),
      progress: () => undefined,
    });
    expect(calls).toEqual(['mute a', 'talk 1', 'quiet 1', 'unmute a', 'mute b', 'talk 2', 'quiet 2', 'unmute b', 'mute a', 'talk 1', 'quiet 1', 'unmute a']);
    expect(cycles.windows.map((w) => w.senderId)).toEqual([1, 2, 1]);
    // Every acknowledged operation is timed; without a Server-Timing header it has none.
    expect(cycles.timings.map((t) => `${t.op} ${t.senderId}`)).toEqual(['mute 1', 'unmute 1', 'mute 2', 'unmute 2', 'mute 1', 'unmute 1']);
    expect(cycles.timings.every((t) => t.serverTiming === null && t.clientMs >= 0)).toBe(true);
    for (const w of cycles.windows) expect(w.requestAt <= w.ackAt && w.ackAt < w.unmuteRequestAt && w.unmuteRequestAt <= w.unmuteAckAt).toBe(true);
    expect(cycles).toMatchObject({ attempted: 3, failed: {}, timedOut: 0 });
  });

  it('a refused mute takes its victim out; an unanswered one stops the mutes', async () => {
    const refused = await runMuteCycles({
      victims,
      pairs: 3,
      timeoutMs: 1000,
      setMuted: async (id, muted) => {
        if (id === 'a' && muted) throw new MuteRejected(503, 'mute answered 503');
      },
      progress: () => undefined,
    });
    expect(refused.failed).toEqual({ 'mute 503': 1 });
    expect(refused.timings.map((t) => `${t.op} ${t.senderId}`)).toEqual(['mute 2', 'unmute 2', 'mute 2', 'unmute 2']);
    expect([...refused.gone]).toEqual([1]);
    expect(refused.windows.map((w) => w.senderId)).toEqual([2, 2]);

    const quietAgain: number[] = [];
    const stuck = await runMuteCycles({
      victims,
      pairs: 3,
      timeoutMs: 50,
      setMuted: (_id, muted) => (muted ? Promise.resolve() : new Promise<void>(() => undefined)),
      talking: async (senderId, whileMuted) => void (whileMuted || quietAgain.push(senderId)),
      progress: () => undefined,
    });
    expect(stuck).toMatchObject({ attempted: 1, timedOut: 1, windows: [] });
    expect(quietAgain).toEqual([1, 1]);
  });
});

describe('big-call mute breakdown (Server-Timing)', () => {
  it('records the Server-Timing the client resolves with, parsed', async () => {
    const cycles = await runMuteCycles({
      victims: [{ senderId: 1, participantId: 'a' }],
      pairs: 1,
      timeoutMs: 1000,
      setMuted: async (_id, muted) => (muted ? 'route;dur=0.1, worker;dur=1.5, total;dur=2' : undefined),
      progress: () => undefined,
    });
    expect(cycles.timings[0]?.serverTiming).toEqual({ route: 0.1, worker: 1.5, total: 2 });
    expect(cycles.timings[1]?.serverTiming).toBeNull();
  });

  it('nearest rank: p99 of 100 is the 99th, of 20 the slowest', () => {
    expect(nearestRank(100, 0.99)).toBe(98);
    expect(nearestRank(20, 0.99)).toBe(19);
    expect(nearestRank(100, 0.5)).toBe(49);
    expect(nearestRank(1, 0.99)).toBe(0);
    expect(nearestRank(7, 1)).toBe(6);
  });

  const timing = (clientMs: number, hops: Record<string, number> | null, stall = 0, op: 'mute' | 'unmute' = 'mute'): MuteTiming => ({
    op,
    senderId: 1,
    requestAt: 0,
    clientMs,
    serverTiming: hops,
    benchStallMs: stall,
    benchGcMs: 0,
  });

  it('splits the p50, p99 and max mutes into gateway hops and outside; unmutes are left out', () => {
    const timings: MuteTiming[] = [];
    for (let i = 0; i < 98; i++) timings.push(timing(3, { route: 0.1, worker: 1, reply: 0.1, total: 1.2 }));
    timings.push(timing(12, { route: 0.1, worker: 1, resume: 9, total: 10.1 })); // the gateway's loop stalled
    timings.push(timing(20, { route: 0.1, worker: 1.2, total: 1.3 }, 15)); // the bench's
    timings.push(timing(500, { worker: 400, total: 401 }, 0, 'unmute'));
    const b = muteBreakdown(timings, 10);
    expect(b).not.toBeNull();
    expect(b?.mutes).toBe(100);
    expect(b?.withServerTiming).toBe(100);
    expect(b?.ranked.map((r) => [r.rank, r.clientMs])).toEqual([
      ['p50', 3],
      ['p99', 12],
      ['max', 20],
    ]);
    const p99 = b?.ranked[1];
    expect(p99?.gatewayMs).toBeCloseTo(10.1);
    expect(p99?.outsideMs).toBeCloseTo(1.9);
    expect(p99?.largestHop).toEqual({ hop: 'resume', ms: 9 });
    const max = b?.ranked[2];
    expect(max?.outsideMs).toBeCloseTo(18.7);
    expect(max?.benchStallMs).toBe(15);
    expect(b?.over).toMatchObject({ thresholdMs: 10, count: 2, largestHops: { resume: 1, 'bench stalled': 1 } });
    expect(b?.over.gatewayMs).toBeCloseTo(11.4);
    expect(b?.over.outsideMs).toBeCloseTo(20.6);
    // A hop the gateway did not report took no time on that request.
    expect(b?.hops.resume.p50).toBe(0);
    expect(b?.hops.resume.max).toBe(9);
    expect(b?.hops.outside.max).toBeCloseTo(18.7);
  });

  it('copes with no mutes and with answers without Server-Timing', () => {
    expect(muteBreakdown([timing(1, null, 0, 'unmute')], 10)).toBeNull();
    const b = muteBreakdown([timing(30, null)], 10);
    expect(b?.withServerTiming).toBe(0);
    expect(b?.ranked[0]).toMatchObject({ clientMs: 30, gatewayMs: null, outsideMs: null, largestHop: null });
    expect(b?.over.largestHops).toEqual({ 'no Server-Timing': 1 });
  });

  it('results.md lines: one row per ranked mute, each hop, and where the slow ones went', () => {
    const b = muteBreakdown([timing(3, { worker: 1, total: 1.5 }), timing(14, { worker: 1, resume: 11, total: 12.5 })], 10);
    const lines = breakdownMarkdown('speakers P = 200', b!, ['gateway loop delay p99 1.00 / max 11.00 ms']);
    const md = lines.join('\n');
    expect(md).toContain('**speakers P = 200**: where the mute ack time went (2 mutes, 2 with the gateway');
    expect(md).toContain('gateway loop delay p99 1.00 / max 11.00 ms');
    expect(md).toMatch(/\| max \| 14\.00 \| 12\.50 \| 1\.50 \| 0\.00 \(0\.00\) \| resume 11\.00 \|/);
    expect(md).toContain('1 mute(s) took more than 10 ms: together 12.5 ms inside the gateway and 1.5 ms outside it');
    expect(md).toContain('the largest part of each was: resume 1.');
    expect(breakdownMarkdown('x', muteBreakdown([timing(3, { total: 1 })], 10)!).join('\n')).toContain('No mute took more than 10 ms.');
  });

  it('results.md carries the breakdown of each step that has one', () => {
    const breakdown = muteBreakdown([timing(3, { worker: 1, total: 1.5 })], 10);
    const withBreakdown = step({ talkers: 200 });
    withBreakdown.mutes = { ...withBreakdown.mutes, breakdown };
    withBreakdown.loops = { gateway: null, muteClient: { nice: -10, stalls: 3, stallMaxMs: 4, gcPauses: 1, gcMaxMs: 0.5 } };
    const md = bigCallMarkdown({
      command: 'npm run bench -- --profile bigcall',
      machine: { cpuModel: 'cpu', cpuCount: 2, memoryBytes: 2 ** 30, node: 'v20', mediasoup: '3.13.16' },
      parameters: {},
      steps: [step({ talkers: 100 }), withBreakdown],
      errors: [],
      durationSeconds: 60,
    });
    expect(md).toContain('**speakers P = 200**: where the mute ack time went');
    expect(md).toContain('bench mute client thread (nice -10): 3 stalls > 2 ms while a mute was in flight (longest 4.00 ms), 1 GC pauses (longest 0.50 ms)');
    expect(md).not.toContain('**speakers P = 100**');
  });
});

describe('bench stalls and the gateway loop', () => {
  it('overlap: the part of a round trip that intervals cover, overlaps counted once', () => {
    expect(overlapMs([], 0, 10)).toBe(0);
    expect(overlapMs([[2, 4]], 0, 10)).toBe(2);
    expect(overlapMs([[-5, 3], [8, 20]], 0, 10)).toBe(5);
    expect(overlapMs([[1, 5], [3, 7], [4, 6]], 0, 10)).toBe(6);
    expect(overlapMs([[11, 12]], 0, 10)).toBe(0);
  });

  it('reads loop delay and GC pauses from /metrics, and the window between two readings', () => {
    const text = (lagMax: number, gcCount: number, under1ms: number, under10ms: number, sum: number) =>
      [
        '# HELP nodejs_eventloop_lag_max_seconds The maximum recorded event loop delay.',
        `nodejs_eventloop_lag_max_seconds ${lagMax}`,
        'nodejs_eventloop_lag_p99_seconds 0.0105',
        `nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} ${under1ms}`,
        `nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor"} ${under10ms}`,
        `nodejs_gc_duration_seconds_bucket{le="+Inf",kind="minor"} ${gcCount}`,
        `nodejs_gc_duration_seconds_sum{kind="minor"} ${sum}`,
        `nodejs_gc_duration_seconds_count{kind="minor"} ${gcCount}`,
        'nodejs_gc_duration_seconds_bucket{le="0.001",kind="major"} 0',
        'nodejs_gc_duration_seconds_bucket{le="0.01",kind="major"} 1',
        'nodejs_gc_duration_seconds_sum{kind="major"} 0.004',
        'nodejs_gc_duration_seconds_count{kind="major"} 1',
      ].join('\n');
    const start = parseGatewayLoop(text(0.02, 10, 8, 10, 0.01));
    expect(start.gc).toEqual({ count: 11, over1ms: 3, over10ms: 0, seconds: expect.closeTo(0.014) });
    const end = parseGatewayLoop(text(0.035, 15, 10, 14, 0.03));
    const w = loopWindow(start, end);
    // prom-client's histogram holds intervals of a 10 ms timer: the delay is what exceeds them.
    expect(w.lagMaxMs).toBeCloseTo(25);
    expect(w.lagP99Ms).toBeCloseTo(0.5);
    expect(w).toMatchObject({ gcPauses: 5, gcOver1ms: 3, gcOver10ms: 1 });
    expect(w.gcMs).toBeCloseTo(20);
    expect(parseGatewayLoop('').lagMax).toBeNaN();
  });
});
