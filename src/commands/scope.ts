import type { Call } from '../control/Call.js';
import type { Principal } from '../control/Principal.js';
import type { CallPlace, CommandContext } from './context.js';

/**
 * The call a command acts on, looked up only once the call id is inside the token's scope: a
 * token for call A gets the same 403 for an existing call B as for one that does not exist.
 */
export function callInScope(ctx: CommandContext, principal: Principal, callId: string): Call {
  ctx.policy.requireCallScope(principal, callId);
  return ctx.service.getCall(callId);
}

/**
 * With a cluster: where the call a request names is served. A call another node hosted until it
 * died is taken over here first; one hosted by a live node is served there (the transport
 * forwards the request). Only for a call id inside the token's scope, so a token cannot make this
 * node take over calls it has nothing to do with. Without a cluster, or for a call hosted here:
 * undefined, nothing to wait for.
 */
export function hostCall(ctx: CommandContext, principal: Principal, callId: string): Promise<CallPlace> | undefined {
  if (!ctx.hosting || ctx.service.hasCall(callId)) return undefined;
  ctx.policy.requireCallScope(principal, callId);
  return ctx.hosting.place(callId);
}
