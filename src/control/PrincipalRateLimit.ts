import { DomainError } from './errors.js';
import type { Principal } from './Principal.js';
import { TokenBucket } from './TokenBucket.js';

/** Buckets kept at most before idle ones are forgotten (a full bucket idle for a minute is no state). */
const SWEEP_ABOVE = 10_000;
const IDLE_MS = 60_000;
const SWEEP_EVERY_MS = 5_000;

export interface PrincipalRateLimitOptions {
  /** Sustained rate per principal; Infinity: no limit. */
  perSecond: number;
  /** Bucket size: how many at once after a quiet spell. */
  burst: number;
  /** The 429's inner code. */
  code: string;
  /** The refusal's message. */
  message: string;
}

/**
 * A token bucket per participant or moderator principal (see keyOf), shared by all its
 * connections and transports to this node. The application is
 * never limited: it is the trusted backend, which may mute at thousands of operations a second
 * over one connection or hold a thousand subscriptions.
 */
export class PrincipalRateLimit {
  private readonly buckets = new Map<string, TokenBucket>();
  private sweptAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: PrincipalRateLimitOptions) {}

  /** Counts one for `principal`, or refuses it: throws the 429 (see refusal). */
  admit(principal: Principal): void {
    const refused = this.refusal(principal);
    if (refused) throw refused;
  }

  /**
   * Counts one for `principal` and answers null, or answers the 429 it is refused with (a refusal
   * takes nothing): for transports that do not answer a refusal by throwing (a WebSocket closes).
   */
  refusal(principal: Principal): DomainError | null {
    const { perSecond, burst, code, message } = this.options;
    if (principal.kind === 'app' || perSecond === Infinity) return null;
    const key = keyOf(principal);
    const now = performance.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= SWEEP_ABOVE) this.sweep(now);
      bucket = new TokenBucket();
      this.buckets.set(key, bucket);
    }
    if (!bucket.has(now, perSecond, burst)) return new DomainError('rateLimited', code, message);
    bucket.take();
    return null;
  }

  private sweep(now: number): void {
    // At most every few seconds: with more principals active than SWEEP_ABOVE, a scan per new one
    // would find nothing to forget, again and again.
    if (now - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = now;
    for (const [key, bucket] of this.buckets) if (now - bucket.lastAskedAt > IDLE_MS) this.buckets.delete(key);
  }
}

/**
 * Who a bucket belongs to, as precisely as the token says: a participant token names its call and
 * a subject, a participant id, or both (one without `sub` is bound to its participant id alone:
 * keyed by the subject only, every such token of a call would share one bucket, and one of them
 * could spend everyone's); a moderator token, its subject and the calls it names. A JSON array,
 * so that no part can run into the next.
 */
function keyOf(principal: Exclude<Principal, { kind: 'app' }>): string {
  if (principal.kind === 'participant') return JSON.stringify(['participant', principal.callId, principal.subject, principal.participantId ?? null]);
  const calls = principal.calls === 'all' ? 'all' : [...principal.calls].sort();
  return JSON.stringify(['moderator', principal.subject, calls]);
}

/**
 * How often a participant or a moderator may read a call's whole roster: a WebSocket `subscribe`
 * or `resync` (a snapshot frame) or the HTTP participant list (`limits.rosterReadsPerSecond`, a
 * burst of four times that; the Genesys call reads too). A snapshot of a large call is the most
 * expensive answer a request can ask for (a 200-person call: ~100 KB of JSON to encode and write),
 * and a client needs one when it subscribes and after a gap in the deltas, which is rare; the typed
 * client asks a refused resync again a second later.
 */
export function rosterReadLimit(perSecond: number): PrincipalRateLimit {
  return new PrincipalRateLimit({
    perSecond,
    burst: Math.max(1, 4 * perSecond),
    code: 'tooManyRosterReads',
    message: `this token reads the whole roster more often than ${perSecond} times a second (limits.rosterReadsPerSecond); follow the deltas instead`,
  });
}

/**
 * How many requests a participant or moderator may make, whatever they are: HTTP requests,
 * WebSocket frames and CometD messages (`limits.requestsPerSecond`, a burst of ten times that; a
 * WebRTC client's `resumeConsumer` of an offer the server sent it is not counted: see
 * SocketConnection). Each request costs the gateway a wake-up, a parse and an answer even when it is refused: a participant token's
 * WebSocket sending `resync` frames as fast as their answers came back took the gateway from 12 %
 * to 65–75 % of a core (~950 snapshots a second; native-bench/rosterReadCost.ts --limits off,
 * 2026-12-08), and still to 78 % with only the roster-read limit (8000 refusals a second). Over the
 * WebSocket a frame past the limit closes the connection (1008): answering each would keep the
 * flood's cost.
 */
export function requestRateLimit(perSecond: number): PrincipalRateLimit {
  return new PrincipalRateLimit({
    perSecond,
    burst: Math.max(1, 10 * perSecond),
    code: 'tooManyRequests',
    message: `this token makes more than ${perSecond} requests a second (limits.requestsPerSecond); slow down`,
  });
}
