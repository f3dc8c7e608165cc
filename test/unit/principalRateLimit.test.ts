import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/control/errors.js';
import { requestRateLimit, rosterReadLimit } from '../../src/control/PrincipalRateLimit.js';
import type { Principal } from '../../src/control/Principal.js';

/** How many of `n` requests of `principal` in a row the limit admits. */
function admitted(limit: ReturnType<typeof requestRateLimit>, principal: Principal, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    try {
      limit.admit(principal);
      ok++;
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
    }
  }
  return ok;
}

describe('per-principal rate limits: whose bucket is whose', () => {
  it('gives participant tokens without a subject (bound to a participant id) a bucket each', () => {
    const limit = requestRateLimit(50);
    const mallory: Principal = { kind: 'participant', subject: '', callId: 'c', participantId: 'p-mallory' };
    const bob: Principal = { kind: 'participant', subject: '', callId: 'c', participantId: 'p-bob' };
    expect(admitted(limit, mallory, 600)).toBe(500);
    expect(admitted(limit, bob, 10)).toBe(10);
  });

  it('gives moderators of different calls a bucket each, and no key part runs into the next', () => {
    const limit = rosterReadLimit(5);
    expect(admitted(limit, { kind: 'moderator', subject: '', calls: new Set(['a']) }, 30)).toBe(20);
    expect(admitted(limit, { kind: 'moderator', subject: '', calls: new Set(['b']) }, 5)).toBe(5);
    // "x:y" + "z" and "x" + "y:z" are different people.
    expect(admitted(limit, { kind: 'participant', subject: 'y:z', callId: 'x' }, 30)).toBe(20);
    expect(admitted(limit, { kind: 'participant', subject: 'z', callId: 'x:y' }, 5)).toBe(5);
  });

  it('admits one after a quiet spell even at rates below one per burst period, and never limits the application', () => {
    expect(admitted(rosterReadLimit(0.2), { kind: 'participant', subject: 's', callId: 'c' }, 3)).toBe(1);
    expect(admitted(requestRateLimit(0.05), { kind: 'participant', subject: 's', callId: 'c' }, 3)).toBe(1);
    expect(admitted(requestRateLimit(1), { kind: 'app', subject: 'backend' }, 10_000)).toBe(10_000);
  });
});
