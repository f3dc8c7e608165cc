import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBench } from '../helpers/benchProcess.js';

/** The big-call profile at tiny scale: real gateway, workers and RTP; structure and sanity only. */
describe('native-bench --profile bigcall (tiny scale)', () => {
  it('rejects bad flags', async () => {
    const bad = await runBench(['--profile', 'bigcall', '--forwarding', 'loudest']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--forwarding');
  });

  it('runs one call per mode, accounts delivery and mutes, writes results.json and results.md', { timeout: 120_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'mutegate-bigcall-'));
    const run = await runBench([
      ...['--profile', 'bigcall', '--talkers', '8', '--sampled-receivers', '3', '--victims', '2', '--mutes', '3'],
      ...['--steady-seconds', '2', '--warmup-seconds', '1', '--out', out],
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('### Forwarding: all');
    expect(run.stdout).toContain('### Forwarding: speakers');
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(report.errors).toEqual([]);
    expect(report.steps).toHaveLength(2);
    for (const step of report.steps) {
      expect(step.joins.placed).toBe(8);
      expect(step.sampledReceivers.joined).toBe(3);
      expect(step.delivery.expectedPackets).toBeGreaterThan(0);
      expect(step.delivery.ratio).toBeGreaterThan(0.9);
      expect(step.mutes.acked).toBe(3);
      expect(step.mutes.leakAfterAck).toBe(0);
      expect(step.mutes.leakCheckArmed).toBe(true);
      expect(step.cpu.workers.length).toBeGreaterThan(0);
    }
    const speakers = report.steps.find((s: { forwarding: { mode: string } }) => s.forwarding.mode === 'speakers');
    // 3 loud talkers: only their packets reach the receivers.
    expect(speakers.delivery.unexpectedPackets).toBe(0);
  });
});
