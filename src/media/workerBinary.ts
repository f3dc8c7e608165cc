import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

/** Thrown when no runnable mediasoup worker binary is available. */
export class WorkerBinaryMissingError extends Error {
  override name = 'WorkerBinaryMissingError';
}

export function installedMediasoupVersion(): string {
  return (require('mediasoup/package.json') as { version: string }).version;
}

/**
 * Where scripts/build-worker.sh caches the worker built for this mediasoup version,
 * platform/arch and revision of our worker patches. Mirrors scripts/common.sh; keep the two in step.
 */
export function cachedWorkerBinaryPath(env: NodeJS.ProcessEnv = process.env): string {
  const cacheDir = env.MUTEGATE_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mutegate');
  const patchRevision = readFileSync(new URL('../../scripts/worker-patches/REVISION', import.meta.url), 'utf8').trim();
  const key = `${installedMediasoupVersion()}-${process.platform}-${process.arch}-p${patchRevision}`;
  return join(cacheDir, 'mediasoup-worker', key, 'mediasoup-worker');
}

/**
 * Resolves the worker binary ($MEDIASOUP_WORKER_BIN, else the setup step's cache) and exports
 * it as MEDIASOUP_WORKER_BIN, which mediasoup reads once when its module is first evaluated.
 */
export function resolveWorkerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const bin = env.MEDIASOUP_WORKER_BIN || cachedWorkerBinaryPath(env);
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new WorkerBinaryMissingError(
      `mediasoup worker binary not found or not executable at ${bin}. ` +
        `Run "bash scripts/setup.sh" (it builds and caches the worker), or set MEDIASOUP_WORKER_BIN.`,
    );
  }
  env.MEDIASOUP_WORKER_BIN = bin;
  return bin;
}
