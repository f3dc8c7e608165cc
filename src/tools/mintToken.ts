/**
 * npm run token -- --role app|moderator|participant [--call ID] [--calls ID,ID|*] [--user ID]
 *                  [--participant ID] [--expires 12h]
 *
 * Prints a development token signed with the gateway's HS256 secret (auth.hs256Secret, from the
 * same config and MUTEGATE_* environment as the gateway), with its auth.issuer and auth.audience
 * as iss and aud when they are set.
 */
import { parseArgs } from 'node:util';
import { mintDevToken, type DevTokenSpec } from '../api/auth/devTokens.js';
import { loadConfig } from '../config/loadConfig.js';

const USAGE = `usage: npm run token -- --role app|moderator|participant [options]
  --role app                                  Graph application permissions: every call
  --role moderator --calls <id,id|*> --user <id>   moderates those calls
  --role participant --call <id> --user <id>  that user's participant in that call (self mute/unmute)
                     [--participant <id>]     or bound to one participant id
  --expires <12h|30m|…>                       lifetime (default 12h)`;

function main(): number {
  const { values } = parseArgs({
    options: {
      role: { type: 'string' },
      call: { type: 'string' },
      calls: { type: 'string' },
      user: { type: 'string' },
      participant: { type: 'string' },
      expires: { type: 'string', default: '12h' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfig();
  if (!config.auth.hs256Secret) {
    console.error('mint-token: auth.hs256Secret is not set, so HS256 tokens would not be accepted');
    return 2;
  }
  let spec: DevTokenSpec;
  switch (values.role) {
    case 'app':
      spec = { role: 'app', ...(values.user ? { subject: values.user } : {}) };
      break;
    case 'moderator':
      if (!values.calls || !values.user) return usage('--role moderator needs --calls and --user');
      spec = { role: 'moderator', subject: values.user, calls: values.calls === '*' ? '*' : values.calls.split(',') };
      break;
    case 'participant':
      if (!values.call || (!values.user && !values.participant)) return usage('--role participant needs --call and --user (or --participant)');
      spec = { role: 'participant', subject: values.user ?? '', call: values.call, ...(values.participant ? { participant: values.participant } : {}) };
      break;
    default:
      return usage(`unknown --role ${values.role ?? '(none)'}`);
  }
  // The gateway requires iss and aud when auth.issuer / auth.audience are set: the token carries them.
  const claims = { expiresIn: values.expires as string, ...(config.auth.issuer ? { issuer: config.auth.issuer } : {}), ...(config.auth.audience ? { audience: config.auth.audience } : {}) };
  void mintDevToken(config.auth.hs256Secret, spec, claims).then((token) => console.log(token));
  return 0;
}

function usage(problem: string): number {
  console.error(`mint-token: ${problem}\n${USAGE}`);
  return 2;
}

const code = main();
if (code !== 0) process.exit(code);
