import { mintDevToken, type DevTokenSpec } from '../../src/api/auth/devTokens.js';

/** The HS256 secret every test gateway is started with. */
export const TEST_SECRET = 'mutegate-test-secret-0123456789abcdef';

/** A real signed token for the test gateways. */
export function tokenFor(spec: DevTokenSpec, opts: Parameters<typeof mintDevToken>[2] = {}): Promise<string> {
  return mintDevToken(TEST_SECRET, spec, opts);
}

let app: Promise<string> | undefined;

/** An application token (Graph Calls.* permissions): may do anything to any call. */
export function appToken(): Promise<string> {
  app ??= tokenFor({ role: 'app', subject: 'test-app' });
  return app;
}

/** A token for the agent/user `userId` (moderator of every call, subject = userId): "me" in the Genesys APIs. */
export function userToken(userId: string): Promise<string> {
  return tokenFor({ role: 'moderator', subject: userId, calls: '*' });
}
