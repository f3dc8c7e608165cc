import type { IdentitySet } from '../control/identity.js';
import type { RtpSendSpec } from '../control/mediaPlane.js';
import type { Participant, RtpMediaSpec } from '../control/Participant.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';
import { callInScope } from './scope.js';
import { authorizeRtpMedia } from './rtpMedia.js';
import type { ParticipantView } from './views.js';

/** A plain-RTP participant joins (itself, or added by a moderator or the application). */
export async function joinRtp(
  ctx: CommandContext,
  principal: Principal,
  callId: string,
  input: { identity: IdentitySet; media: RtpMediaSpec },
): Promise<ParticipantView> {
  const call = callInScope(ctx, principal, callId);
  const role = ctx.policy.requireJoin(principal, call, input.identity.user?.id);
  const media = authorizeRtpMedia(ctx, principal, input.media);
  const participant = await ctx.service.requestAs(role, () => ctx.service.speakerForJoin(call.id, input.identity), () => ctx.service.addParticipant(call.id, { identity: input.identity, media }), true);
  // Whoever created the leg gets its media (where to send, the SRTP keys) in the reply.
  return { participant, withMedia: true };
}

/** The call's participants (a whole-roster read: limits.rosterReadsPerSecond). */
export function listParticipants(ctx: CommandContext, principal: Principal, callId: string): ParticipantView[] {
  const call = callInScope(ctx, principal, callId);
  ctx.policy.requireCallAccess(principal, call);
  ctx.rosterReads?.admit(principal);
  return [...call.participants.values()].map((participant) => view(ctx, principal, participant));
}

export function readParticipant(ctx: CommandContext, principal: Principal, callId: string, participantId: string): ParticipantView {
  const call = callInScope(ctx, principal, callId);
  ctx.policy.requireCallAccess(principal, call);
  return view(ctx, principal, ctx.service.getParticipant(call.id, participantId));
}

/** A new send stream (new SSRC or payload type, as after a SIP re-INVITE); a muted one stays silent. */
export async function replaceSendStream(
  ctx: CommandContext,
  principal: Principal,
  callId: string,
  participantId: string,
  spec: RtpSendSpec,
): Promise<ParticipantView> {
  const call = callInScope(ctx, principal, callId);
  const target = ctx.service.actionTarget(call.id, participantId);
  const role = ctx.policy.roleFor(principal, call, target, 'change');
  return view(ctx, principal, await ctx.service.requestAs(role, () => target.speaker, () => ctx.service.replaceParticipantMedia(call.id, participantId, spec), true));
}

export async function removeParticipant(ctx: CommandContext, principal: Principal, callId: string, participantId: string): Promise<void> {
  const call = callInScope(ctx, principal, callId);
  const target = ctx.service.actionTarget(call.id, participantId, { onlyReplaced: true });
  const role = ctx.policy.roleFor(principal, call, target, 'remove');
  // A participant token deleting its own participant left by itself; anyone else removed it.
  await ctx.service.requestAs(role, () => target.speaker, () => ctx.service.removeParticipant(call.id, participantId, role === 'self' ? 'left' : 'removed'));
}

function view(ctx: CommandContext, principal: Principal, participant: Participant): ParticipantView {
  return { participant, withMedia: ctx.policy.mayViewMedia(principal, participant) };
}
