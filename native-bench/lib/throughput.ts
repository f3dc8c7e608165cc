import type { BenchTarget } from '../targets/target.js';
import { nowMs } from './RtpPeer.js';
import { summarize } from './stats.js';

export interface ThroughputStep {
  targetRate: number;
  achievedRate: number;
  ops: number;
  /** Operations that failed (non-2xx, rejected). */
  errors: number;
  /** Operations not issued on time because every participant still had one in flight: the target fell behind. */
  skipped: number;
  p50Ms: number;
  p99Ms: number;
  /** Every completed operation's latency, in completion order. */
  latenciesMs: number[];
}

export interface ThroughputResult {
  steps: ThroughputStep[];
  /** Highest target rate that ran without errors, kept up (nothing skipped, ≥ 95 % achieved) and kept p99 under the limit. */
  sustainedOpsPerSecond: number;
  p99AtSustainedMs: number;
}

/**
 * Open-loop ramp: at each rate, issue mute/unmute operations on the load participants for
 * `stepSeconds` (one at a time per participant, alternating), then the next rate, until a step
 * fails. The load streams keep flowing meanwhile.
 */
export async function runThroughput(
  target: BenchTarget,
  participants: number,
  rates: number[],
  stepSeconds: number,
  p99LimitMs: number,
  progress: (m: string) => void,
): Promise<ThroughputResult> {
  const steps: ThroughputStep[] = [];
  const muted = new Array<boolean>(participants).fill(false);
  const busy = new Array<boolean>(participants).fill(false);
  let best: ThroughputStep | undefined;
  for (const rate of rates) {
    const latencies: number[] = [];
    let errors = 0;
    let skipped = 0;
    let issued = 0;
    let next = 0;
    const inFlight = new Set<Promise<void>>();
    const started = nowMs();
    const total = Math.round(rate * stepSeconds);
    while (issued < total) {
      const dueAt = started + (issued * 1000) / rate;
      const wait = dueAt - nowMs();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      // Next idle participant (per-participant operations are serialized by the gateway anyway).
      let i = next;
      for (let tries = 0; tries < participants && busy[i]; tries++) i = (i + 1) % participants;
      next = (i + 1) % participants;
      if (busy[i]) {
        skipped++; // every participant busy: the target is not keeping up
        issued++;
        continue;
      }
      busy[i] = true;
      const want = !muted[i];
      const t0 = nowMs();
      const op = target
        .setLoadMuted(i, want)
        .then(
          () => {
            muted[i] = want;
            latencies.push(nowMs() - t0);
          },
          () => {
            errors++;
          },
        )
        .finally(() => {
          busy[i] = false;
          inFlight.delete(op);
        });
      inFlight.add(op);
      issued++;
    }
    await Promise.all(inFlight);
    const elapsed = (nowMs() - started) / 1000;
    const summary = summarize(latencies);
    const step: ThroughputStep = { targetRate: rate, achievedRate: latencies.length / elapsed, ops: total, errors, skipped, p50Ms: summary.p50, p99Ms: summary.p99, latenciesMs: latencies };
    steps.push(step);
    progress(`${target.name}: throughput ${rate}/s → ${step.achievedRate.toFixed(0)}/s, p99 ${step.p99Ms.toFixed(2)} ms, errors ${errors}, fell behind ${skipped}`);
    const ok = errors === 0 && skipped === 0 && step.achievedRate >= rate * 0.95 && step.p99Ms <= p99LimitMs;
    if (!ok) break;
    best = step;
  }
  return { steps, sustainedOpsPerSecond: best?.targetRate ?? 0, p99AtSustainedMs: best?.p99Ms ?? NaN };
}
