import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../src/api/auth/TokenVerifier.js';
import { loadConfig } from '../../src/config/loadConfig.js';

const run = promisify(execFile);

/** `npm run token` (src/tools/mintToken.ts) mints what the gateway of the same configuration accepts. */
describe('npm run token', () => {
  it('carries auth.issuer and auth.audience when they are set, so the gateway requiring them accepts the token', async () => {
    const env = { ...process.env, MUTEGATE_AUTH_ISSUER: 'https://idp.example/', MUTEGATE_AUTH_AUDIENCE: 'mutegate-tests' };
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/tools/mintToken.ts', '--role', 'moderator', '--calls', '*', '--user', 'mod-1'], { env });
    const token = stdout.trim();
    const config = loadConfig(env);
    const principal = await (await TokenVerifier.create(config.auth)).verify(token);
    expect(principal).toMatchObject({ kind: 'moderator', subject: 'mod-1' });
    // And a verifier requiring another audience refuses it: the claim is really checked.
    const other = await TokenVerifier.create({ ...config.auth, audience: 'someone-else' });
    await expect(other.verify(token)).rejects.toMatchObject({ status: 401 });
  });
});
