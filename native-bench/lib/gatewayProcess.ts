import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './freePort.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface GatewayProcess {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts mutegate (src/main.ts) as its own process on 127.0.0.1 and waits until /healthz answers.
 * `nodeArgs`: extra options for node itself (e.g. --cpu-prof, which NODE_OPTIONS does not take).
 * `checkout`: another checkout of mutegate to start instead of this one (a before/after comparison).
 */
export async function startGatewayProcess(env: Record<string, string>, nodeArgs: string[] = [], checkout = repoRoot): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
    cwd: checkout,
    env: { ...process.env, MUTEGATE_HTTP_PORT: String(port), MUTEGATE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not answer /healthz within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
