import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/api/auth/devTokens.js';
import { AuthError, TokenVerifier } from '../../src/api/auth/TokenVerifier.js';
import type { GatewayConfig } from '../../src/config/schema.js';

const SECRET = 'unit-test-secret-0123456789abcdef';
const base: GatewayConfig['auth'] = {
  enabled: true,
  hs256Secret: SECRET,
  publicKeys: [],
  issuer: null,
  audience: null,
  clockToleranceSeconds: 30,
  publicMetrics: true,
  allowAppRemoteUnmute: false,
};

async function refusal(verifier: TokenVerifier, token: string | undefined): Promise<AuthError> {
  try {
    await verifier.verify(token);
  } catch (err) {
    if (err instanceof AuthError) return err;
    throw err;
  }
  throw new Error('expected the token to be refused');
}

describe('TokenVerifier', () => {
  it('maps claims to the three roles', async () => {
    const v = await TokenVerifier.create(base);
    expect(await v.verify(await mintDevToken(SECRET, { role: 'app', subject: 'bot' }))).toEqual({ kind: 'app', subject: 'bot' });
    expect(await v.verify(await mintDevToken(SECRET, { role: 'moderator', subject: 'm', calls: ['c1', 'c2'] }))).toEqual({
      kind: 'moderator',
      subject: 'm',
      calls: new Set(['c1', 'c2']),
    });
    expect(await v.verify(await mintDevToken(SECRET, { role: 'moderator', subject: 'm', calls: '*' }))).toMatchObject({ calls: 'all' });
    expect(await v.verify(await mintDevToken(SECRET, { role: 'participant', subject: 'alice', call: 'c1' }))).toEqual({
      kind: 'participant',
      subject: 'alice',
      callId: 'c1',
    });
  });

  it('refuses missing, malformed, forged, expired and role-less tokens with a reason', async () => {
    const v = await TokenVerifier.create(base);
    expect((await refusal(v, undefined)).code).toBe('missingToken');
    expect((await refusal(v, 'not.a.jwt')).code).toBe('invalidToken');
    expect((await refusal(v, await mintDevToken('another-secret-0123456789abc', { role: 'app' }))).code).toBe('invalidToken');
    const expired = await mintDevToken(SECRET, { role: 'app' }, { expiresIn: Math.floor(Date.now() / 1000) - 120 });
    expect((await refusal(v, expired)).code).toBe('expiredToken');
    const key = new TextEncoder().encode(SECRET);
    const roleless = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
    const noRole = await refusal(v, roleless);
    expect(noRole.code).toBe('noRole');
    expect(noRole.status).toBe(403);
    // alg "none" is never accepted.
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"roles":["Calls.Initiate.All"]}').toString('base64url')}.`;
    expect((await refusal(v, unsigned)).code).toBe('invalidToken');
  });

  it('allows clock skew within the leeway for exp and nbf, not beyond', async () => {
    const v = await TokenVerifier.create(base);
    const now = Math.floor(Date.now() / 1000);
    await expect(v.verify(await mintDevToken(SECRET, { role: 'app' }, { expiresIn: now - 10 }))).resolves.toMatchObject({ kind: 'app' });
    await expect(v.verify(await mintDevToken(SECRET, { role: 'app' }, { notBefore: now + 10 }))).resolves.toMatchObject({ kind: 'app' });
    expect((await refusal(v, await mintDevToken(SECRET, { role: 'app' }, { notBefore: now + 120 }))).code).toBe('invalidToken');
  });

  it('checks issuer and audience when configured', async () => {
    const v = await TokenVerifier.create({ ...base, issuer: 'https://idp.example', audience: 'mutegate' });
    await expect(v.verify(await mintDevToken(SECRET, { role: 'app' }, { issuer: 'https://idp.example', audience: 'mutegate' }))).resolves.toMatchObject({
      kind: 'app',
    });
    expect((await refusal(v, await mintDevToken(SECRET, { role: 'app' }, { issuer: 'https://evil.example', audience: 'mutegate' }))).code).toBe('invalidToken');
    expect((await refusal(v, await mintDevToken(SECRET, { role: 'app' }, { issuer: 'https://idp.example' }))).code).toBe('invalidToken');
  });

  it('verifies RS256 and ES256 tokens with configured public keys, and no HS256 without a secret', async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    const v = await TokenVerifier.create({
      ...base,
      hs256Secret: null,
      publicKeys: [
        { alg: 'RS256', pem: await exportSPKI(rsa.publicKey) },
        { alg: 'ES256', pem: await exportSPKI(ec.publicKey) },
      ],
    });
    const sign = (alg: 'RS256' | 'ES256', key: typeof rsa.privateKey) =>
      new SignJWT({ mutegate_role: 'participant', call: 'c9' }).setProtectedHeader({ alg }).setSubject('bob').setExpirationTime('5m').sign(key);
    await expect(v.verify(await sign('RS256', rsa.privateKey))).resolves.toMatchObject({ kind: 'participant', subject: 'bob', callId: 'c9' });
    await expect(v.verify(await sign('ES256', ec.privateKey))).resolves.toMatchObject({ kind: 'participant' });
    const stranger = await generateKeyPair('ES256');
    expect((await refusal(v, await sign('ES256', stranger.privateKey))).code).toBe('invalidToken');
    expect((await refusal(v, await mintDevToken(SECRET, { role: 'app' }))).code).toBe('invalidToken');
  });
});
