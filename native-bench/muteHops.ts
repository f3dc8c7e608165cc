/**
 * Where one mute's time goes inside mutegate, hop by hop: back-to-back mute/unmute requests
 * from one keep-alive HTTP client against a gateway started here (or --target), collected from
 * each 200's Server-Timing header. Quick to run while changing the mute path:
 *
 *   node --import tsx native-bench/muteHops.ts [--mutes 500] [--gap-ms 0] [--subscribers S]
 *                          [--log-level info] [--cpu-prof DIR] [--target URL --token JWT]
 *
 * --subscribers S: S roster WebSocket subscribers on the call (half JSON, half protobuf), so
 * that "apply" includes encoding the roster change for them (they read and drop what comes).
 * --cpu-prof DIR: the gateway runs with node --cpu-prof and writes its profile into DIR on exit.
 * Numbers on a shared 2-core machine are indicative; the full bench (npm run bench) reports
 * the same table beside ours vs raw.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { mintDevToken } from '../src/api/auth/devTokens.js';
import { ClientMessage } from '../src/proto/contract.js';
import { startGatewayProcess, type GatewayProcess } from './lib/gatewayProcess.js';
import { HopRecorder, hopTable } from './lib/hops.js';

interface Reply {
  status: number;
  body: string;
  serverTiming: string | undefined;
}

function post(agent: Agent, base: URL, path: string, token: string, body: unknown): Promise<Reply> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((done, fail) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', 'content-length': data.length, authorization: `Bearer ${token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const header = res.headers['server-timing'];
          done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), serverTiming: Array.isArray(header) ? header.join(', ') : header });
        });
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(data);
  });
}

/** A roster subscriber of `callId` that ignores what it receives; resolves once subscribed. */
async function subscribe(base: URL, token: string, callId: string, encoding: 'json' | 'proto'): Promise<WebSocket> {
  const url = `ws://${base.host}/ws?access_token=${encodeURIComponent(token)}`;
  const ws = new WebSocket(url, encoding === 'json' ? 'mutegate.v1.json' : 'mutegate.v1.proto', { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const snapshot = new Promise<void>((resolve) => ws.once('message', () => resolve()));
  if (encoding === 'json') ws.send(JSON.stringify({ type: 'subscribe', requestId: 's', callId }));
  else ws.send(ClientMessage.encode(ClientMessage.fromObject({ requestId: 's', subscribe: { callId } })).finish());
  await snapshot;
  return ws;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mutes: { type: 'string', default: '500' },
      'gap-ms': { type: 'string', default: '0' },
      subscribers: { type: 'string', default: '0' },
      'log-level': { type: 'string', default: 'warn' },
      'cpu-prof': { type: 'string' },
      target: { type: 'string' },
      token: { type: 'string' },
    },
    strict: true,
  });
  const mutes = Number(values.mutes);
  const gapMs = Number(values['gap-ms']);
  if (!Number.isInteger(mutes) || mutes <= 0 || mutes > 100_000) throw new Error('--mutes takes a whole number in 1..100000');
  if (!Number.isFinite(gapMs) || gapMs < 0) throw new Error('--gap-ms takes a number ≥ 0');
  const subscriberCount = Number(values.subscribers);
  if (!Number.isInteger(subscriberCount) || subscriberCount < 0 || subscriberCount > 5000) throw new Error('--subscribers takes a whole number in 0..5000');
  if (values.target && !values.token) throw new Error('--target needs --token (an application token; the gateway must allow application unmute)');

  let gateway: GatewayProcess | undefined;
  let token = values.token;
  if (!values.target) {
    const secret = randomBytes(24).toString('hex');
    const env: Record<string, string> = {
      MUTEGATE_MEDIA_NUM_WORKERS: '1',
      MUTEGATE_AUTH_HS256_SECRET: secret,
      MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true',
      MUTEGATE_LOG_LEVEL: values['log-level'] as string,
    };
    gateway = await startGatewayProcess(env, values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${resolve(values['cpu-prof'])}`] : []);
    token = await mintDevToken(secret, { role: 'app', subject: 'mute-hops' });
  }
  const base = new URL(values.target ?? (gateway as GatewayProcess).url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // Somewhere for the receivers' RTP to go (nothing is sent here; the speaker sends nothing either:
  // a pause is confirmed by the worker whether or not packets flow).
  const sink = createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
  const sinkPort = sink.address().port;
  const recorders = { mute: new HopRecorder(), unmute: new HopRecorder() };
  const subscribers: WebSocket[] = [];
  try {
    const call = await post(agent, base, '/communications/calls', token as string, { subject: 'mute hops' });
    if (call.status !== 201) throw new Error(`create call answered ${call.status}: ${call.body}`);
    const callId = (JSON.parse(call.body) as { id: string }).id;
    const join = async (user: string, ssrc: number) => {
      const r = await post(agent, base, `/communications/calls/${callId}/participants`, token as string, {
        info: { identity: { user: { id: user } } },
        media: { kind: 'rtp', payloadType: 100, ssrc, receive: { ip: '127.0.0.1', port: sinkPort } },
      });
      if (r.status !== 201) throw new Error(`join answered ${r.status}: ${r.body}`);
      return (JSON.parse(r.body) as { id: string }).id;
    };
    const speaker = await join('speaker', 1111);
    await join('listener', 2222);
    for (let i = 0; i < subscriberCount; i++) subscribers.push(await subscribe(base, token as string, callId, i % 2 === 0 ? 'json' : 'proto'));
    // Warm-up: JIT, the first token verification, connection set-up.
    for (let i = 0; i < 20; i++) {
      await post(agent, base, `/communications/calls/${callId}/participants/${speaker}/mute`, token as string, {});
      await post(agent, base, `/communications/calls/${callId}/participants/${speaker}/unmute`, token as string, {});
    }
    for (let i = 0; i < mutes; i++) {
      for (const action of ['mute', 'unmute'] as const) {
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        const started = performance.now();
        const r = await post(agent, base, `/communications/calls/${callId}/participants/${speaker}/${action}`, token as string, { clientContext: 'mute-hops' });
        const clientMs = performance.now() - started;
        if (r.status !== 200) throw new Error(`${action} answered ${r.status}: ${r.body}`);
        recorders[action].record(r.serverTiming, clientMs);
      }
    }
    const runs = (['mute', 'unmute'] as const).flatMap((action) => {
      const hops = recorders[action].take();
      return hops ? [{ label: action, hops }] : [];
    });
    if (runs.length === 0) process.stdout.write('no Server-Timing headers: is the gateway older than the hop marks?\n');
    process.stdout.write(`${hopTable(runs).join('\n')}\n`);
  } finally {
    agent.destroy();
    sink.close();
    for (const ws of subscribers) ws.terminate();
    await gateway?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`muteHops: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
