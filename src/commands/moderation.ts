import type { Operation } from '../control/Operation.js';
import type { Participant } from '../control/Participant.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';
import { callInScope } from './scope.js';

/** Moderator actions on one participant (mutegate extensions beside Graph's mute). */
export const MODERATOR_ACTIONS = ['lock', 'unlock', 'deafen', 'undeafen', 'requestUnmute'] as const;
export type ModeratorAction = (typeof MODERATOR_ACTIONS)[number];

export function moderate(
  ctx: CommandContext,
  principal: Principal,
  action: ModeratorAction,
  callId: string,
  participantId: string,
  clientContext?: string,
): Promise<Operation> {
  const call = callInScope(ctx, principal, callId);
  ctx.service.actionTarget(call.id, participantId);
  ctx.policy.requireModerator(principal, call, action);
  return ctx.moderation[action](call.id, participantId, clientContext);
}

/** Hands: raised by the person itself; raised or lowered by a moderator too. */
export function setHand(ctx: CommandContext, principal: Principal, callId: string, participantId: string, raised: boolean): Promise<Participant> {
  const call = callInScope(ctx, principal, callId);
  const target = ctx.service.actionTarget(call.id, participantId);
  const role = ctx.policy.roleFor(principal, call, target, raised ? 'raise the hand of' : 'lower the hand of');
  return ctx.service.requestAs(role, () => target.speaker, () => ctx.moderation.setHand(call.id, target.id, raised));
}

/** Mutes everyone in the call but the listed participants. */
export function muteAll(
  ctx: CommandContext,
  principal: Principal,
  callId: string,
  exceptParticipantIds: readonly string[],
  clientContext?: string,
): Promise<Operation> {
  const call = callInScope(ctx, principal, callId);
  const role = ctx.policy.requireModerator(principal, call, 'mute all');
  return ctx.moderation.muteAll(call.id, exceptParticipantIds, role, clientContext);
}
