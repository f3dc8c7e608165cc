import type { IdentitySet } from '../control/identity.js';
import type { SignalingBlob } from '../control/mediaPlane.js';
import type { Participant } from '../control/Participant.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';
import { callInScope } from './scope.js';

/**
 * WebRTC joins (over the signaling WebSocket). The later signaling steps (transports, produce,
 * consumers) act on a participant the same connection joined, so joining is where the principal
 * is authorized: the same rule as a plain-RTP join. WebRTC media is authenticated by ICE and
 * DTLS-SRTP, so no address rules apply.
 */
export function routerRtpCapabilities(ctx: CommandContext, principal: Principal, callId: string): SignalingBlob {
  const call = callInScope(ctx, principal, callId);
  ctx.policy.requireCallAccess(principal, call);
  return ctx.signaling.routerRtpCapabilities(call.id);
}

export function joinWebRtc(ctx: CommandContext, principal: Principal, callId: string, identity: IdentitySet, rtpCapabilities: SignalingBlob): Promise<Participant> {
  const call = callInScope(ctx, principal, callId);
  const role = ctx.policy.requireJoin(principal, call, identity.user?.id);
  return ctx.service.requestAs(role, () => ctx.service.speakerForJoin(call.id, identity), () => ctx.signaling.join(call.id, identity, rtpCapabilities), true);
}
