import type { Call } from '../control/Call.js';
import type { CreateCallInput } from '../control/CallService.js';
import type { Principal } from '../control/Principal.js';
import type { CommandContext } from './context.js';
import { authorizeRtpMedia } from './rtpMedia.js';

/** Creating a call: applications only (as in Graph); its own leg follows the plain-RTP rules. */
export async function createCall(ctx: CommandContext, principal: Principal, input: CreateCallInput): Promise<Call> {
  ctx.policy.requireApp(principal, 'creating a call');
  if (input.media) authorizeRtpMedia(ctx, principal, input.media);
  return ctx.service.createCall(input);
}

/** Every call the principal may see. */
export function listCalls(ctx: CommandContext, principal: Principal): Call[] {
  return ctx.service.listCalls().filter((call) => ctx.policy.mayAccess(principal, call));
}

export function readCall(ctx: CommandContext, principal: Principal, callId: string): Call {
  const call = ctx.service.getCall(callId);
  ctx.policy.requireCallAccess(principal, call);
  return call;
}

export function endCall(ctx: CommandContext, principal: Principal, callId: string): void {
  ctx.policy.requireModerator(principal, ctx.service.getCall(callId), 'ending a call');
  ctx.service.deleteCall(callId);
}

export function changeCallSettings(ctx: CommandContext, principal: Principal, callId: string, settings: { muteOnEntry: boolean }): Call {
  const call = ctx.service.getCall(callId);
  ctx.policy.requireModerator(principal, call, 'changing call settings');
  return ctx.moderation.setMuteOnEntry(call.id, settings.muteOnEntry);
}
