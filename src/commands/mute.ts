import type { Operation } from '../control/Operation.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';
import { callInScope } from './scope.js';

/** When the transport received the request (process.hrtime), and the Graph clientContext. */
export interface RequestMeta {
  clientContext?: string | undefined;
  receivedAt?: bigint | undefined;
}

/** Server mute of one participant: by itself, a moderator of its call, or the application. */
export function mute(ctx: CommandContext, principal: Principal, callId: string, participantId: string, meta: RequestMeta): Promise<Operation> {
  const call = callInScope(ctx, principal, callId);
  const target = ctx.service.actionTarget(call.id, participantId);
  const role = ctx.policy.roleFor(principal, call, target, 'mute');
  return ctx.service.requestAs(role, () => target.speaker, () => ctx.service.muteParticipant(call.id, participantId, meta.clientContext, meta.receivedAt, role));
}

/** Unmute: only the participant itself (or the application when configured to); others ask with requestUnmute. */
export function unmute(ctx: CommandContext, principal: Principal, callId: string, participantId: string, meta: RequestMeta): Promise<Operation> {
  const call = callInScope(ctx, principal, callId);
  const target = ctx.service.actionTarget(call.id, participantId);
  const role = ctx.policy.requireUnmute(principal, call, target);
  return ctx.service.requestAs(role, () => target.speaker, () => ctx.service.unmuteParticipant(call.id, participantId, meta.clientContext, meta.receivedAt, role));
}

/** Graph `POST /calls/{id}/mute|unmute`: the application mutes or unmutes its own participant. */
export function muteApplication(ctx: CommandContext, principal: Principal, callId: string, muted: boolean, meta: RequestMeta): Promise<Operation> {
  ctx.policy.requireApp(principal, `POST /calls/{id}/${muted ? 'mute' : 'unmute'}`);
  const call = callInScope(ctx, principal, callId);
  return muted ? ctx.service.muteApp(call.id, meta.clientContext, meta.receivedAt) : ctx.service.unmuteApp(call.id, meta.clientContext, meta.receivedAt);
}
