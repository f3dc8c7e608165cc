import type { Call } from '../control/Call.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';
import { callInScope } from './scope.js';

/**
 * Subscribing to a call's roster, or asking for its snapshot again (WebSocket): the same access as
 * reading the call, and a whole-roster read (limits.rosterReadsPerSecond).
 */
export function subscribeRoster(ctx: CommandContext, principal: Principal, callId: string): Call {
  const call = callInScope(ctx, principal, callId);
  ctx.policy.requireCallAccess(principal, call);
  ctx.rosterReads?.admit(principal);
  return call;
}
