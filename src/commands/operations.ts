import type { Operation } from '../control/Operation.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';

export function readOperation(ctx: CommandContext, principal: Principal, callId: string, operationId: string): Operation {
  const call = ctx.service.getCall(callId);
  ctx.policy.requireCallAccess(principal, call);
  return ctx.service.getOperation(call.id, operationId);
}
