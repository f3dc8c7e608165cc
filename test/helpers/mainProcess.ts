import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TEST_SECRET } from './tokens.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface MainRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface MainProcess {
  child: ChildProcess;
  exited: Promise<MainRun>;
  /** Resolves with the base URL once the gateway logged that it listens. */
  listening: Promise<string>;
}

/** Runs src/main.ts as `npm run dev` does (through tsx), on a free port, with the given env overrides. */
export function startMainProcess(env: Record<string, string> = {}): MainProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot,
    env: { ...process.env, MUTEGATE_LOG_LEVEL: 'info', MUTEGATE_AUTH_HS256_SECRET: TEST_SECRET, MUTEGATE_HTTP_PORT: '0', MUTEGATE_MEDIA_NUM_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<MainRun>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /mutegate listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
      if (match) {
        clearInterval(timer);
        resolve(match[1] as string);
      }
    }, 20);
    void exited.then((run) => {
      clearInterval(timer);
      reject(new Error(`gateway exited early (${run.code}): ${run.stderr}`));
    });
  });
  return { child, exited, listening };
}
