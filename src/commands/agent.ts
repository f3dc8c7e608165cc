import type { Call } from '../control/Call.js';
import { DomainError } from '../control/errors.js';
import type { Operation } from '../control/Operation.js';
import type { Participant } from '../control/Participant.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';

/**
 * The agent APIs (Genesys Workspace `/api/v2/me/calls`, CometD `/v2/me/calls`): "me" is the
 * token's user inside the token's call scope — a participant token in its call, a moderator
 * token in the calls it moderates. Application tokens name no agent.
 */

/** Agent operations mutegate implements (Genesys names; hands are mutegate's own). */
export type AgentOperation = 'MuteCall' | 'UnmuteCall' | 'RaiseHand' | 'LowerHand';
export const AGENT_OPERATIONS: readonly AgentOperation[] = ['MuteCall', 'UnmuteCall', 'RaiseHand', 'LowerHand'];

/** The identity key ("kind:id", see identityKey) of an agent: a user. */
export const agentIdentityKey = (userId: string): string => `user:${userId}`;

/**
 * What the agent may do to its call now: unmute while muted (not while locked by a moderator),
 * mute while not; raise or lower its hand.
 */
export function agentCapabilities(me: Participant): AgentOperation[] {
  const mute: AgentOperation[] = me.isMuted ? (me.locked ? [] : ['UnmuteCall']) : ['MuteCall'];
  return [...mute, me.handRaised ? 'LowerHand' : 'RaiseHand'];
}

/** Every call in the principal's scope in which its user has a leg, with that leg. */
export function agentCalls(ctx: CommandContext, principal: Principal): { call: Call; participant: Participant }[] {
  const userId = ctx.policy.requireAgent(principal);
  return ctx.service
    .callsOfIdentity(agentIdentityKey(userId))
    .filter(({ call, participant }) => ctx.policy.mayAccess(principal, call) && ctx.policy.isSelf(principal, participant));
}

/**
 * The agent's calls as its API shows them, each with every participant: a whole-roster read
 * (limits.rosterReadsPerSecond; one per request, however many calls it lists).
 */
export function readAgentCalls(ctx: CommandContext, principal: Principal): { call: Call; participant: Participant }[] {
  const calls = agentCalls(ctx, principal);
  ctx.rosterReads?.admit(principal);
  return calls;
}

/** One of the agent's calls as its API shows it, with every participant: a whole-roster read. */
export function readAgentCall(ctx: CommandContext, principal: Principal, callId: string): { call: Call; participant: Participant } {
  const found = agentCall(ctx, principal, callId);
  ctx.rosterReads?.admit(principal);
  return found;
}

/** The agent's own leg in one call (403 outside the token's scope, 404 without a leg). */
export function agentCall(ctx: CommandContext, principal: Principal, callId: string): { call: Call; participant: Participant } {
  const userId = ctx.policy.agentIdentity(principal, callId);
  const call = ctx.service.getCall(callId);
  const participant = ctx.service.participantOfIdentity(call.id, agentIdentityKey(userId));
  if (!ctx.policy.isSelf(principal, participant)) {
    throw new DomainError('notFound', 'participantNotFound', `this token has no participant in call ${callId}`);
  }
  return { call, participant };
}

/** The agent acts on its own leg: MuteCall, UnmuteCall (refused while locked), RaiseHand, LowerHand. */
export async function agentOperation(
  ctx: CommandContext,
  principal: Principal,
  callId: string,
  operationName: string,
  receivedAt?: bigint,
): Promise<Operation | Participant> {
  if (!(AGENT_OPERATIONS as readonly string[]).includes(operationName)) {
    throw new DomainError('invalidRequest', 'unknownOperation', `unknown operationName "${operationName}"; supported: ${AGENT_OPERATIONS.join(', ')}`);
  }
  const { call, participant } = agentCall(ctx, principal, callId);
  const capabilities = agentCapabilities(participant);
  if (!capabilities.includes(operationName as AgentOperation)) {
    const why = participant.locked ? 'a moderator locked the mute' : participant.isMuted ? 'the call is muted' : 'the call is not muted';
    throw new DomainError('conflict', 'notACapability', `${operationName} is not among the call's capabilities (${capabilities.join(', ')}): ${why}`);
  }
  // The agent's own leg: within the limit of a person's requests about itself.
  return ctx.service.ownRequest(participant.speaker, async (): Promise<Operation | Participant> => {
    switch (operationName as AgentOperation) {
      case 'MuteCall':
        return ctx.service.muteOwn(call.id, participant.id, undefined, receivedAt);
      case 'UnmuteCall':
        return ctx.service.unmuteOwn(call.id, participant.id, undefined, receivedAt);
      case 'RaiseHand':
      case 'LowerHand':
        return ctx.moderation.setHand(call.id, participant.id, operationName === 'RaiseHand');
    }
  });
}

/**
 * The agent legs of a call whose events a CometD session of `principal` receives: its own leg,
 * and only in a call inside the token's scope.
 */
export function agentLegIn(ctx: CommandContext, principal: Principal, call: Call, participant: Participant): boolean {
  return ctx.policy.mayAccess(principal, call) && ctx.policy.isSelf(principal, participant);
}
