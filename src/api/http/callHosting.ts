import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listCalls, otherNodes, placeNewCall } from '../../commands/calls.js';
import type { CallPlace, CommandContext } from '../../commands/context.js';
import { hostCall } from '../../commands/scope.js';
import { DomainError } from '../../control/errors.js';
import { callsPath, callView } from '../graph/resources.js';
import { principalFromWire, principalToWire, type NodeLink, type WirePrincipal } from '../nodeLink.js';
import { principalOf } from './authentication.js';
import { FORWARDED_HEADER, type ForwardedPrincipals } from './forwardedPrincipals.js';

/** Request headers that travel with a forwarded request; the token does not (the principal does). */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'client-request-id', 'prefer'];
/** Reply headers that come back (request-id is this node's own, set on the way out). */
const FORWARDED_REPLY_HEADERS = ['content-type', 'location', 'server-timing', 'retry-after'];

export interface ForwardedHttpRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  principal: WirePrincipal;
}

export interface ForwardedHttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * With a cluster: a route naming a call (`:callId`) hosted by another node is served by that node
 * (the request goes there over Redis and its answer comes back as it is: its 200 to a mute means
 * its worker confirmed the pause); a call whose node is gone is taken over here first; a new call
 * (POST /communications/calls) goes to the least loaded node. A call hosted here, the usual case
 * and every local mute's, passes without a promise.
 */
export function hostNamedCalls(scope: FastifyInstance, ctx: CommandContext, link: NodeLink | undefined): void {
  if (!ctx.hosting || !link) return;
  scope.addHook('preHandler', (request, reply, done) => {
    const callId = (request.params as { callId?: unknown } | undefined)?.callId;
    // A new call forwarded here was placed here by the node that forwarded it: created here.
    const creates = request.method === 'POST' && request.routeOptions.url === callsPath && !request.forwarded;
    if (request.method === 'GET' && request.routeOptions.url === callsPath && !request.forwarded) {
      listEverywhere(ctx, link, request, reply).catch(done);
      return;
    }
    const pending = typeof callId === 'string' ? hostCall(ctx, principalOf(request), callId) : creates ? placeNewCall(ctx, principalOf(request)) : undefined;
    if (!pending) return done();
    pending.then((place) => {
      if (place.kind === 'here') return done();
      forward(link, request, reply, place).catch(done);
    }, done);
  });
}

async function forward(link: NodeLink, request: FastifyRequest, reply: FastifyReply, place: Extract<CallPlace, { kind: 'node' }>): Promise<void> {
  // A request another node forwarded here is served here or refused: never sent on (no loops).
  if (request.forwarded) throw new DomainError('mediaUnavailable', 'nodeUnreachable', `the call moved to node ${place.nodeId} while the request was on its way; try again`);
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const forwarded: ForwardedHttpRequest = {
    method: request.method,
    url: request.url,
    headers,
    ...(request.body !== undefined && request.body !== null ? { body: JSON.stringify(request.body) } : {}),
    principal: principalToWire(principalOf(request)),
  };
  let answer: ForwardedHttpReply;
  try {
    answer = (await link.request(place.nodeId, 'http', forwarded)) as ForwardedHttpReply;
  } catch (err) {
    throw new DomainError('mediaUnavailable', 'nodeUnreachable', `node ${place.nodeId}, which hosts this call, did not answer: ${(err as Error).message}`);
  }
  void reply.code(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) void reply.header(name, value);
  // The body is the other node's reply as it was serialized there (not serialized again).
  void reply.send(answer.body === '' ? undefined : answer.body);
}

/**
 * GET /communications/calls with a cluster: the calls of this node and of every other live node
 * (each lists what the token may see, as it would alone). A node that does not answer is left
 * out: it is gone, and its calls are re-placed when next used.
 */
async function listEverywhere(ctx: CommandContext, link: NodeLink, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const principal = principalOf(request);
  const nodes = (await otherNodes(ctx)) ?? [];
  const forwarded: ForwardedHttpRequest = { method: 'GET', url: request.url, headers: {}, principal: principalToWire(principal) };
  const answers = await Promise.allSettled(nodes.map((nodeId) => link.request(nodeId, 'http', forwarded) as Promise<ForwardedHttpReply>));
  const value: unknown[] = listCalls(ctx, principal).map(callView);
  for (const answer of answers) {
    if (answer.status === 'fulfilled' && answer.value.status === 200) value.push(...(JSON.parse(answer.value.body) as { value: unknown[] }).value);
  }
  void reply.send({ value });
}

/** Serves HTTP requests other nodes forward here, through this node's own routes (inject). */
export function serveForwardedHttp(app: FastifyInstance, principals: ForwardedPrincipals, link: NodeLink): void {
  link.handle('http', async (payload) => {
    const request = payload as ForwardedHttpRequest;
    const key = principals.issue(principalFromWire(request.principal));
    try {
      const response = await app.inject({
        method: request.method as 'GET',
        url: request.url,
        headers: { ...request.headers, [FORWARDED_HEADER]: key },
        ...(request.body !== undefined ? { payload: request.body } : {}),
      });
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_REPLY_HEADERS) {
        const value = response.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const answer: ForwardedHttpReply = { status: response.statusCode, headers, body: response.body };
      return answer;
    } finally {
      principals.take(key);
    }
  });
}
