import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench } from '../helpers/benchProcess.js';

/** The bench at tiny scale: a real gateway process, real worker, real RTP; structure and sanity only. */
describe('native-bench (tiny scale)', () => {
  it('prints help and rejects bad flags', async () => {
    const help = await runBench(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--profile quick|full');
    const bad = await runBench(['--streams', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--streams');
  });

  it('measures ours (HTTP and WebSocket) and raw, writes results.json, the table and the plot', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mutegate-bench-'));
    const run = await runBench([
      ...['--streams', '4', '--subscribers', '4', '--mutes', '4', '--throughput-seconds', '0.3', '--throughput-rates', '50,100'],
      ...['--cpu-streams', '4', '--cpu-seconds', '0.5', '--out', out],
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('| N streams | metric |');

    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(results).toMatchObject({
      tool: 'mutegate native-bench',
      machine: { cpuCount: expect.any(Number), node: process.version, mediasoup: '3.13.16' },
      versions: { mediasoup: '3.13.16' },
      parameters: { streams: [4], subscribers: [4], mutes: 4, probeIntervalMs: 1 },
      leakAfterAckTotal: 0,
      metricsCheck: { match: true, mutesIssued: expect.any(Number) },
    });
    expect(results.runs.map((r: { target: string }) => r.target).sort()).toEqual(['ours', 'ours-ws', 'raw']);
    for (const run of results.runs) {
      expect(run.samples.apiLatencyMs).toHaveLength(4);
      for (const metric of ['apiLatencyMs', 'enforcementHighMs', 'unmuteApiLatencyMs', 'unmuteFirstForwardedMs']) {
        for (const v of run.samples[metric]) {
          // Request → ack takes time; the enforcement bounds are send times relative to the request,
          // and on a loaded machine a packet sent just before the request can still be queued when
          // the pause (or resume) lands, so those may be slightly negative.
          expect(v, `${run.target} ${metric}`).toBeGreaterThan(metric.endsWith('ApiLatencyMs') || metric === 'apiLatencyMs' ? 0 : -1000);
          expect(v, `${run.target} ${metric}`).toBeLessThan(1000);
        }
        expect(run.summary[metric]).toMatchObject({ count: 4, p50: expect.any(Number), p90: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) });
      }
      expect(run.samples.leakAfterAck).toEqual([0, 0, 0, 0]);
      expect(run.samples.forwardedAcrossUnmute).toHaveLength(4);
      expect(run.probe.forwarded).toBeGreaterThan(0);
      expect(run.load.received).toBeGreaterThan(0);
      // The ramp: every step accounts for each operation and says what the client's thread cost.
      expect(run.throughput.steps.length).toBeGreaterThan(0);
      for (const step of run.throughput.steps) {
        expect(step).toMatchObject({ errors: 0, leftBehind: expect.any(Number), late: expect.any(Number), cpuPercent: { benchMainThread: expect.any(Number) } });
        expect(step.latenciesMs.length + step.errors).toBe(step.ops);
      }
      expect(run.throughput.stoppedBecause).toEqual(expect.any(String));
    }
    // Forwarding cost: the SFU's CPU read from /proc for ours (gateway + its worker) and raw (worker).
    expect(results.forwardingCost.map((c: { target: string }) => c.target).sort()).toEqual(['ours', 'raw']);
    for (const cost of results.forwardingCost) {
      expect(cost.streams).toBe(4);
      expect(cost.load.received).toBeGreaterThan(0);
      expect(cost.cpuPercent.sfuWorkers).toBeGreaterThanOrEqual(0);
      expect(cost.cpuPercent.sfuNode).toBeGreaterThanOrEqual(0);
      expect(cost.sfuPercent).toBeGreaterThanOrEqual(0);
    }
    expect(results.fanout[0]).toMatchObject({ subscribers: 4, threads: 1, missing: 0, bytesPerUpdate: { json: expect.any(Number), proto: expect.any(Number) } });
    expect(results.fanout[0].gatewayWriteMeanMs).toBeGreaterThan(0);
    expect(results.fanout[0].bytesPerUpdate.proto).toBeLessThan(results.fanout[0].bytesPerUpdate.json);
    expect(results.ratios).toContainEqual(expect.objectContaining({ streams: 4, target: 'ours', apiLatencyMs: { p50: expect.any(Number), p99: expect.any(Number) } }));
    expect(results.ratios).toContainEqual(expect.objectContaining({ streams: 4, target: 'ours-ws', apiLatencyMs: { p50: expect.any(Number), p99: expect.any(Number) } }));
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    for (const section of ['leak after ack', 'ours (WebSocket) p50 / p99', 'Sustained mute/unmute rate', 'Forwarding cost', 'Roster fan-out']) expect(md).toContain(section);
    const svg = readFileSync(join(out, 'latency-cdf.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('N = 4 streams');
  }, 120_000);
});
