import type { Call } from '../control/Call.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';

/**
 * The call a command acts on, looked up only once the call id is inside the token's scope: a
 * token for call A gets the same 403 for an existing call B as for one that does not exist.
 */
export function callInScope(ctx: CommandContext, principal: Principal, callId: string): Call {
  ctx.policy.requireCallScope(principal, callId);
  return ctx.service.getCall(callId);
}
