import type { FastifyInstance } from 'fastify';
import type { CommandContext } from '../../commands/context.js';
import { hostCall } from '../../commands/scope.js';
import { principalOf } from './authentication.js';

/**
 * With a cluster: before a route that names a call (`:callId`) runs its command, the call is
 * brought here if its node is gone (see hostCall). A call hosted here, the usual case and every
 * mute's, passes without a promise.
 */
export function hostNamedCalls(scope: FastifyInstance, ctx: CommandContext): void {
  if (!ctx.hosting) return;
  scope.addHook('preHandler', (request, _reply, done) => {
    const callId = (request.params as { callId?: unknown } | undefined)?.callId;
    const pending = typeof callId === 'string' ? hostCall(ctx, principalOf(request), callId) : undefined;
    if (!pending) return done();
    pending.then(() => done(), done);
  });
}
