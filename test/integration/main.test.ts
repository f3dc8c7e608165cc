import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RosterClient } from '../helpers/rosterClient.js';
import { joinRtp } from '../helpers/rtpCall.js';
import { apiClient } from '../helpers/gateway.js';
import { TEST_SECRET } from '../helpers/tokens.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs src/main.ts as `npm start` would (through tsx), with the given env overrides. */
function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, MUTEGATE_LOG_LEVEL: 'info', MUTEGATE_AUTH_HS256_SECRET: TEST_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, exited, output: () => stdout };
}

describe('the gateway process (src/main.ts)', () => {
  it('refuses to start on invalid configuration, naming the bad key', async () => {
    const run = await startMain({ MUTEGATE_MEDIA_RTC_MIN_PORT: 'lots' }).exited;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('media.rtcMinPort');
    expect(run.stderr).toContain('MUTEGATE_MEDIA_RTC_MIN_PORT');

    const bad = await startMain({ MUTEGATE_CONFIG: '/nonexistent/mutegate.json' }).exited;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('/nonexistent/mutegate.json');
  });

  it('says how to get a worker when the binary is missing', async () => {
    const run = await startMain({ MEDIASOUP_WORKER_BIN: '/nonexistent/mediasoup-worker', MUTEGATE_HTTP_PORT: '0' }).exited;
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('scripts/setup.sh');
  });

  it('starts on the embedded defaults with env overrides, serves /healthz, and on SIGTERM ends calls with a roster event and exits 0', async () => {
    const main = startMain({ MUTEGATE_HTTP_PORT: '0', MUTEGATE_MEDIA_NUM_WORKERS: '1' });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const match = /mutegate listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(main.output());
        if (match) {
          clearInterval(timer);
          resolve(match[1] as string);
        }
      }, 50);
      void main.exited.then((run) => {
        clearInterval(timer);
        reject(new Error(`gateway exited early (${run.code}): ${run.stderr}`));
      });
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', workers: 1 });

    const api = apiClient(url);
    const callId = (await api.post('/communications/calls', { subject: 'shutdown' })).body.id;
    const p = await joinRtp(api, callId);
    const watcher = await RosterClient.connect(url, 'json');
    await watcher.answer(watcher.request({ type: 'subscribe', callId }));

    main.child.kill('SIGTERM');
    const run = await main.exited;
    expect(run.code).toBe(0);
    await watcher.closed();
    expect(watcher.closeCode).toBe(1001);
    expect(watcher.deltas().map((d) => d.change)).toEqual(['left', 'callEnded']);
    p.peer.close();
  });
});
