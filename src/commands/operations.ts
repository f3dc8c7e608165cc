import type { Operation } from '../control/Operation.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';
import { callInScope } from './scope.js';

export function readOperation(ctx: CommandContext, principal: Principal, callId: string, operationId: string): Operation {
  const call = callInScope(ctx, principal, callId);
  ctx.policy.requireCallAccess(principal, call);
  return ctx.service.getOperation(call.id, operationId);
}
