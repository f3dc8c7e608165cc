import { afterEach, describe, expect, it, vi } from 'vitest';
import { mintDevToken } from '../../src/api/auth/devTokens.js';
import { AuthError, TokenVerifier } from '../../src/api/auth/TokenVerifier.js';
import { VerifiedTokenCache } from '../../src/api/auth/VerifiedTokenCache.js';
import type { Principal } from '../../src/control/Principal.js';
import type { GatewayConfig } from '../../src/config/schema.js';

const SECRET = 'unit-test-secret-0123456789abcdef';
const TOLERANCE = 30;
const auth: GatewayConfig['auth'] = {
  enabled: true,
  hs256Secret: SECRET,
  publicKeys: [],
  issuer: null,
  audience: null,
  clockToleranceSeconds: TOLERANCE,
  publicMetrics: true,
  allowAppRemoteUnmute: false,
};
const app = (subject: string): Principal => ({ kind: 'app', subject });

describe('VerifiedTokenCache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('forgets the least recently used token beyond its capacity', () => {
    const cache = new VerifiedTokenCache(2, TOLERANCE);
    cache.set('a', app('a'), undefined);
    cache.set('b', app('b'), undefined);
    expect(cache.get('a')).toEqual(app('a')); // a is now the most recent
    cache.set('c', app('c'), undefined);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toEqual(app('a'));
    expect(cache.get('c')).toEqual(app('c'));
  });

  it('serves a token only while jose would still accept its exp (same leeway), then drops it', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const exp = 2_000_000_000;
    const cache = new VerifiedTokenCache(10, TOLERANCE);
    cache.set('t', app('t'), exp);
    // jose: expired when exp <= now - tolerance (now in whole seconds).
    vi.setSystemTime((exp + TOLERANCE - 1) * 1000 + 999);
    expect(cache.get('t')).toEqual(app('t'));
    vi.setSystemTime((exp + TOLERANCE) * 1000);
    expect(cache.get('t')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps a token without exp, and nothing with capacity 0', () => {
    const cache = new VerifiedTokenCache(0, TOLERANCE);
    cache.set('t', app('t'), undefined);
    expect(cache.get('t')).toBeUndefined();
    const unbounded = new VerifiedTokenCache(1, TOLERANCE);
    unbounded.set('t', app('t'), 'not a number');
    expect(unbounded.get('t')).toEqual(app('t'));
  });
});

describe('TokenVerifier with verified tokens remembered', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers a token verified before from memory, with the same frozen principal', async () => {
    const v = await TokenVerifier.create(auth);
    const token = await mintDevToken(SECRET, { role: 'moderator', subject: 'm', calls: ['c1'] });
    const first = await v.verify(token);
    const second = await v.verify(token);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('refuses a remembered token as expired once jose would (exp plus the leeway)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const now = Math.floor(Date.now() / 1000);
    const v = await TokenVerifier.create(auth);
    const token = await mintDevToken(SECRET, { role: 'app', subject: 'bot' }, { expiresIn: now + 5 });
    await expect(v.verify(token)).resolves.toMatchObject({ kind: 'app' });
    vi.setSystemTime((now + 5 + TOLERANCE - 1) * 1000);
    await expect(v.verify(token)).resolves.toMatchObject({ kind: 'app' });
    vi.setSystemTime((now + 5 + TOLERANCE) * 1000);
    const refused = await v.verify(token).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(AuthError);
    expect((refused as AuthError).code).toBe('expiredToken');
  });
});
