import type { Call } from '../control/Call.js';
import type { CreateCallInput } from '../control/CallService.js';
import type { Principal } from '../control/Principal.js';
import type { CallPlace, CommandContext } from './context.js';
import { callInScope } from './scope.js';
import { authorizeRtpMedia } from './rtpMedia.js';
import type { CallView } from './views.js';

/** Creating a call: applications only (as in Graph); its own leg follows the plain-RTP rules. */
/**
 * With a cluster: where a new call goes (the least loaded live node), decided before the request
 * is served, for an application token only. Without a cluster: undefined (here).
 */
export function placeNewCall(ctx: CommandContext, principal: Principal): Promise<CallPlace> | undefined {
  if (!ctx.hosting) return undefined;
  ctx.policy.requireApp(principal, 'creating a call');
  return ctx.hosting.placeNewCall();
}

/** With a cluster: the other live nodes, whose calls a list includes too (undefined: no cluster). */
export function otherNodes(ctx: CommandContext): Promise<string[]> | undefined {
  return ctx.hosting?.otherNodes();
}

export async function createCall(ctx: CommandContext, principal: Principal, input: CreateCallInput): Promise<CallView> {
  ctx.policy.requireApp(principal, 'creating a call');
  if (input.media) authorizeRtpMedia(ctx, principal, input.media);
  return view(ctx, principal, await ctx.service.createCall(input));
}

/** Every call the principal may see. */
export function listCalls(ctx: CommandContext, principal: Principal): CallView[] {
  return ctx.service
    .listCalls()
    .filter((call) => ctx.policy.mayAccess(principal, call))
    .map((call) => view(ctx, principal, call));
}

export function readCall(ctx: CommandContext, principal: Principal, callId: string): CallView {
  const call = callInScope(ctx, principal, callId);
  ctx.policy.requireCallAccess(principal, call);
  return view(ctx, principal, call);
}

export function endCall(ctx: CommandContext, principal: Principal, callId: string): void {
  ctx.policy.requireModerator(principal, callInScope(ctx, principal, callId), 'ending a call');
  ctx.service.deleteCall(callId);
}

export async function changeCallSettings(ctx: CommandContext, principal: Principal, callId: string, settings: { muteOnEntry: boolean }): Promise<CallView> {
  const call = callInScope(ctx, principal, callId);
  ctx.policy.requireModerator(principal, call, 'changing call settings');
  return view(ctx, principal, await ctx.moderation.setMuteOnEntry(call.id, settings.muteOnEntry));
}

function view(ctx: CommandContext, principal: Principal, call: Call): CallView {
  return { call, withBackendSettings: ctx.policy.mayViewBackendSettings(principal) };
}
