import type { IncomingMessage } from 'node:http';
import type { OperationTimeline } from '../../control/OperationTimeline.js';

const arrivals = new WeakMap<IncomingMessage, bigint>();

/** Called first for every API request (server.ts): when Node handed it to the server. */
export function markArrival(request: IncomingMessage): void {
  arrivals.set(request, process.hrtime.bigint());
}

/** When Node handed `request` to the server, if markArrival saw it. */
export function arrivalOf(request: IncomingMessage): bigint | undefined {
  return arrivals.get(request);
}

/**
 * process.hrtime.bigint() marks of one mute request on its way through the gateway. The HTTP
 * layer sets the first and last ones; the domain's OperationTimeline has those in between.
 */
export interface RequestMarks {
  /** Node handed it to the server (markArrival), or else fastify received it. */
  receivedAt: bigint;
  /** fastify's route handler took it (routed; before the onRequest hooks). */
  routedAt?: bigint;
  /** The scope's onRequest hooks are done: the token is verified. */
  authenticatedAt?: bigint;
  /** The handler runs: body parsed, validated, preValidation hooks done. */
  handlerAt?: bigint;
  /** The command returned its operation to the handler. */
  answeredAt?: bigint;
  operation?: Readonly<OperationTimeline> | undefined;
}

const ms = (from: bigint, to: bigint) => (Number(to - from) / 1e6).toFixed(3);

/**
 * A `Server-Timing` header value (W3C Server Timing) naming each hop of a mute, in ms:
 * route (Node's request event → fastify's route handler: routing, request id, request
 * objects), auth (onRequest hooks: token), parse (body, schema, preValidation), command (principal,
 * policy, the operation record), queue (wait in the identity's queue), worker (the media
 * worker's round trip), apply (state, roster and metrics events), resume (back to the handler),
 * reply (serialization and onSend hooks) and total (received → reply ready to write).
 * Hops whose marks are missing (a failed request, no media to pause) are left out.
 */
export function serverTiming(marks: RequestMarks, sentAt: bigint): string {
  const op = marks.operation;
  const points: [name: string, at: bigint | undefined][] = [
    ['route', marks.routedAt],
    ['auth', marks.authenticatedAt],
    ['parse', marks.handlerAt],
    ['command', op?.queuedAt],
    ['queue', op?.mediaRequestedAt ?? op?.startedAt],
    ['worker', op?.mediaConfirmedAt],
    ['apply', op?.finishedAt],
    ['resume', marks.answeredAt],
    ['reply', sentAt],
  ];
  const hops: string[] = [];
  let previous = marks.receivedAt;
  for (const [name, at] of points) {
    if (at === undefined) continue;
    hops.push(`${name};dur=${ms(previous, at)}`);
    previous = at;
  }
  hops.push(`total;dur=${ms(marks.receivedAt, sentAt)}`);
  return hops.join(', ');
}
