/**
 * How a big-call step is judged: when a mode clearly fails (it stops growing P), when a call size
 * counts as supported, and issue 13's targets over the whole profile. Pure.
 */
import type { StepResult } from './stepResult.js';

export const CLEAR_FAILURE_DELIVERY = 0.9;
/** Issue 13: a call is supported with delivery ≥ 99 % and one-way p99 ≤ 50 ms. */
export const SUPPORTED_DELIVERY = 0.99;
export const SUPPORTED_ONE_WAY_P99_MS = 50;
export const TARGET_TALKERS = 200;
export const TARGET_MUTE_ACK_P99_MS = 10;
export const TARGET_JOIN_ANSWER_MS = 1000;

const failedMutes = (s: StepResult) => Object.values(s.mutes.failed).reduce((a, b) => a + b, 0);

/** Why the step clearly fails, or null: delivery < 90 %, a mute not answered or not confirmed, a join not answered. */
export function stepFailure(s: StepResult): string | null {
  const reasons: string[] = [];
  if (!(s.delivery.ratio >= CLEAR_FAILURE_DELIVERY)) reasons.push(`delivery ${Number.isFinite(s.delivery.ratio) ? (100 * s.delivery.ratio).toFixed(1) + ' %' : 'not measured'}`);
  if (s.mutes.timedOut > 0) reasons.push(`${s.mutes.timedOut} mute(s) not answered`);
  if (failedMutes(s) > 0) reasons.push(`${failedMutes(s)} mute(s) failed (${Object.entries(s.mutes.failed).map(([k, n]) => `${n} × ${k}`).join(', ')})`);
  if (s.joins.timedOut > 0) reasons.push('a join was not answered');
  return reasons.length ? reasons.join('; ') : null;
}

/**
 * Why the call size is not supported, empty when it is: everyone got in, delivery ≥ 99 %, one-way
 * p99 ≤ 50 ms, every mute answered with 200, and in speakers mode nothing but the speakers was
 * forwarded (otherwise the mode was not in effect and the step says nothing about it).
 */
export function whyNotSupported(s: StepResult): string[] {
  const reasons: string[] = [];
  const notIn = s.talkers - s.joins.placed;
  if (notIn > 0) reasons.push(`${notIn} not placed (${s.joins.refused} refused)`);
  if (!(s.delivery.ratio >= SUPPORTED_DELIVERY)) reasons.push(`delivery ${fmt(100 * s.delivery.ratio, 2)} %`);
  if (!(s.oneWayMs.p99 <= SUPPORTED_ONE_WAY_P99_MS)) reasons.push(`one-way p99 ${fmt(s.oneWayMs.p99)} ms`);
  if (s.mutes.timedOut > 0 || failedMutes(s) > 0) reasons.push('mutes failed');
  if (s.forwarding.mode === 'speakers' && s.delivery.unexpectedPackets > 0) reasons.push('quiet talkers forwarded');
  return reasons;
}

export const supported = (s: StepResult): boolean => whyNotSupported(s).length === 0;

/** The largest supported step of a mode (the steps of one mode, any order). */
export function largestSupported(steps: readonly StepResult[]): StepResult | undefined {
  return steps.filter(supported).reduce<StepResult | undefined>((a, s) => (!a || s.talkers > a.talkers ? s : a), undefined);
}

export interface TargetRow {
  target: string;
  measured: string;
  wanted: string;
  met: boolean | null;
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** Issue 13's targets; `met` null = this run could not measure it. */
export function targets(steps: readonly StepResult[]): TargetRow[] {
  const rows: TargetRow[] = [];
  const speakers = steps.filter((s) => s.forwarding.mode === 'speakers');
  const all = steps.filter((s) => s.forwarding.mode === 'all');
  const best = largestSupported(speakers);
  const bestAll = largestSupported(all);
  rows.push({
    target: 'talkers in one call with delivery ≥ 99 % and one-way p99 ≤ 50 ms (speakers mode)',
    measured: `${best?.talkers ?? 0}${all.length ? ` (all mode: ${bestAll?.talkers ?? 0})` : ''}`,
    wanted: `≥ ${TARGET_TALKERS}`,
    met: speakers.length ? (best?.talkers ?? 0) >= TARGET_TALKERS : null,
  });
  rows.push({
    target: `mute ack p99 at the largest supported call${best ? ` (speakers, P = ${best.talkers})` : ''}`,
    measured: best ? `${fmt(best.mutes.ackMs.p99, 2)} ms (${best.mutes.acked} mutes)` : 'no supported call',
    wanted: `≤ ${TARGET_MUTE_ACK_P99_MS} ms`,
    met: best ? best.mutes.acked > 0 && best.mutes.ackMs.p99 <= TARGET_MUTE_ACK_P99_MS : speakers.length ? false : null,
  });
  const leak = steps.reduce((sum, s) => sum + s.mutes.leakAfterAck, 0);
  const acked = steps.reduce((sum, s) => sum + s.mutes.acked, 0);
  const unarmed = steps.filter((s) => s.mutes.leakCheckArmed === false).length;
  rows.push({
    target: 'leak after ack (every step, both modes)',
    measured: `${leak} packets (${acked} mutes${unarmed ? `; check not armed in ${unarmed} step(s)` : ''})`,
    wanted: '0',
    met: acked > 0 ? leak === 0 : null,
  });
  const refused = steps.reduce((sum, s) => sum + s.joins.refused, 0);
  const slowest = steps.reduce((m, s) => Math.max(m, s.joins.maxAnswerMs), 0);
  const refusedSlowest = steps.reduce((m, s) => Math.max(m, ...s.joins.refusals.map((r) => r.ms)), 0);
  rows.push({
    target: 'join beyond capacity answered within 1 s (placed or 503)',
    measured: `slowest join answer ${fmt(slowest, 0)} ms; ${refused} refused${refused ? `, slowest 503 ${fmt(refusedSlowest, 0)} ms` : ' (capacity not reached)'}`,
    wanted: `≤ ${TARGET_JOIN_ANSWER_MS} ms`,
    met: steps.length ? slowest <= TARGET_JOIN_ANSWER_MS && steps.every((s) => s.joins.timedOut === 0) : null,
  });
  return rows;
}
