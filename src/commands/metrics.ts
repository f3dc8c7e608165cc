import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';

/**
 * Reading /metrics when it is not public (auth.publicMetrics false): the operator's backend only
 * (an application token). The metrics are gateway-wide (every call's counts, worker process ids):
 * no business of a participant's or a moderator's.
 */
export function authorizeMetrics(ctx: CommandContext, principal: Principal): void {
  ctx.policy.requireApp(principal, 'reading /metrics');
}
