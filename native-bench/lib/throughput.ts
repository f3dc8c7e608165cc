import type { BenchTarget } from '../targets/target.js';
import { startCpuWindow, type CpuSource } from './procCpu.js';
import { nowMs } from './RtpPeer.js';
import { summarize } from './stats.js';

/** One step of the ramp (a rate that failed is run twice: both steps are kept). */
export interface ThroughputStep {
  targetRate: number;
  achievedRate: number;
  ops: number;
  /** Operations that failed (non-2xx, rejected, or never answered). */
  errors: number;
  /** Operations that waited more than 1 ms for a free participant (every one still had an operation in flight). */
  late: number;
  /** Operations still unanswered `p99LimitMs` after the step's last one was due: left behind. */
  leftBehind: number;
  /** Latency from when each operation fell due (not when a participant was free to send it) to its answer. */
  p50Ms: number;
  p99Ms: number;
  /** Percent of one core per process (or thread) during the step, e.g. the bench's main thread. */
  cpuPercent: Record<string, number>;
  /** Every completed operation's latency (from when it fell due), in completion order. */
  latenciesMs: number[];
}

export interface ThroughputResult {
  steps: ThroughputStep[];
  /** Highest target rate with a sustained step (see shortfall); 0 if none was. */
  sustainedOpsPerSecond: number;
  p99AtSustainedMs: number;
  /** Why the ramp stopped: the first failed step's shortfall, or 'top of the ramp'. */
  stoppedBecause: string;
}

export interface ThroughputOptions {
  rates: number[];
  stepSeconds: number;
  p99LimitMs: number;
  /** CPU measured per step (e.g. the bench's main thread: the client must not be the bottleneck). */
  cpu?: CpuSource[];
  progress: (m: string) => void;
}

/** The longest the ramp waits for a step's stragglers before calling them errors. */
const DRAIN_LIMIT_MS = 10_000;

/** Why a step does not count as sustained, or null if it does. */
export function shortfall(step: Omit<ThroughputStep, 'latenciesMs' | 'cpuPercent'>, p99LimitMs: number): string | null {
  if (step.errors > 0) return `${step.errors} errors`;
  if (step.leftBehind > 0) return `${step.leftBehind} left behind at the end of the step`;
  if (!(step.achievedRate >= step.targetRate * 0.95)) return `achieved ${step.achievedRate.toFixed(0)}/s`;
  if (!(step.p99Ms <= p99LimitMs)) return `p99 ${step.p99Ms.toFixed(2)} ms > ${p99LimitMs} ms`;
  return null;
}

/**
 * Open-loop ramp: at each rate, mute/unmute operations fall due at even intervals for
 * `stepSeconds`, spread round-robin over all `participants` load participants (alternating mute
 * and unmute on each; at most one in flight per participant, since the gateway serializes each
 * identity's operations anyway: spreading them is what lets the rate scale). An operation due
 * while every participant is busy waits for the next free one, and its latency is counted from
 * when it fell due (when the bench's timer saw it due), so a stall shows in the p99 instead of
 * silently lowering the offered rate. A step that is not sustained (see shortfall) is run once
 * more, so that one stall of a shared machine does not end the ramp; the ramp stops when it
 * fails again. The load streams keep flowing meanwhile.
 */
export async function runThroughput(target: BenchTarget, participants: number, opts: ThroughputOptions): Promise<ThroughputResult> {
  const steps: ThroughputStep[] = [];
  const muted = new Array<boolean>(participants).fill(false);
  let best: ThroughputStep | undefined;
  let stoppedBecause = 'top of the ramp';
  for (const rate of opts.rates) {
    let why: string | null = null;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const step = await runStep(target, participants, muted, rate, opts);
      steps.push(step);
      why = shortfall(step, opts.p99LimitMs);
      const cpuText = Object.entries(step.cpuPercent)
        .map(([name, pct]) => `${name} ${pct.toFixed(0)} %`)
        .join(', ');
      opts.progress(
        `${target.name}: throughput ${rate}/s → ${step.achievedRate.toFixed(0)}/s, p50 ${step.p50Ms.toFixed(2)} / p99 ${step.p99Ms.toFixed(2)} ms, late ${step.late}${cpuText ? `, CPU ${cpuText}` : ''}${why ? ` — not sustained: ${why}${attempt === 1 ? ', once more' : ''}` : ''}`,
      );
      if (!why) {
        best = step;
        break;
      }
    }
    if (why) {
      stoppedBecause = `${rate}/s: ${why}`;
      break;
    }
  }
  return { steps, sustainedOpsPerSecond: best?.targetRate ?? 0, p99AtSustainedMs: best?.p99Ms ?? NaN, stoppedBecause };
}

/** One step of the ramp; `muted` is each participant's state, carried from step to step. */
async function runStep(target: BenchTarget, participants: number, muted: boolean[], rate: number, opts: ThroughputOptions): Promise<ThroughputStep> {
  const latencies: number[] = [];
  let errors = 0;
  let late = 0;
  let outstanding = 0;
  let onIdle: (() => void) | null = null;
  /** When each operation waiting for a free participant fell due. */
  const waiting: number[] = [];
  let waitingHead = 0;
  const idle: number[] = Array.from({ length: participants }, (_, i) => i);
  let idleHead = 0;
  const dispatch = () => {
    while (waitingHead < waiting.length && idleHead < idle.length) {
      const dueAt = waiting[waitingHead++] as number;
      const i = idle[idleHead++] as number;
      if (nowMs() - dueAt > 1) late++;
      const want = !muted[i];
      outstanding++;
      target.setLoadMuted(i, want).then(
        () => {
          muted[i] = want;
          latencies.push(nowMs() - dueAt);
          done(i);
        },
        () => {
          errors++;
          done(i);
        },
      );
    }
    if (idleHead === idle.length) idle.length = idleHead = 0;
  };
  const done = (i: number) => {
    outstanding--;
    idle.push(i);
    dispatch();
    if (outstanding === 0 && waitingHead === waiting.length) onIdle?.();
  };
  const allAnswered = () => new Promise<void>((resolve) => (outstanding === 0 && waitingHead === waiting.length ? resolve() : (onIdle = resolve)));

  const cpu = startCpuWindow(opts.cpu ?? []);
  const started = nowMs();
  const total = Math.round(rate * opts.stepSeconds);
  let issued = 0;
  while (issued < total) {
    const wait = started + (issued * 1000) / rate - nowMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    // Everything due by now, stamped now: the timer's own lateness is the bench's, not the target's.
    const now = nowMs();
    for (; issued < total && started + (issued * 1000) / rate <= now; issued++) waiting.push(now);
    dispatch();
  }
  // Nobody left behind: everything is answered within the latency limit after the last one was due.
  const lastDue = started + ((total - 1) * 1000) / rate;
  await Promise.race([allAnswered(), sleepUntil(lastDue + opts.p99LimitMs)]);
  const leftBehind = outstanding + (waiting.length - waitingHead);
  await Promise.race([allAnswered(), sleepUntil(nowMs() + DRAIN_LIMIT_MS)]);
  errors += outstanding + (waiting.length - waitingHead); // never answered
  const elapsed = (nowMs() - started) / 1000;
  const cpuPercent = cpu();
  const summary = summarize(latencies);
  return { targetRate: rate, achievedRate: latencies.length / elapsed, ops: total, errors, late, leftBehind, p50Ms: summary.p50, p99Ms: summary.p99, cpuPercent, latenciesMs: latencies };
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, at - nowMs())).unref());
}
