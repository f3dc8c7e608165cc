import type { Call } from '../control/Call.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';
import { callInScope } from './scope.js';

/** Subscribing to a call's roster (WebSocket): the same access as reading the call. */
export function subscribeRoster(ctx: CommandContext, principal: Principal, callId: string): Call {
  const call = callInScope(ctx, principal, callId);
  ctx.policy.requireCallAccess(principal, call);
  return call;
}
