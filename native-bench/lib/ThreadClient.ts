import { Worker } from 'node:worker_threads';

/**
 * Request/response over postMessage to a bench thread (a module that answers `{ id, cmd }` with
 * `{ id, result }` or `{ id, error }`, see serveThread).
 */
export class ThreadClient<Command> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;
  private readonly worker: Worker;

  /** Starts `module` (a .ts file URL) in a new thread, through threadBoot.mjs which registers tsx. */
  constructor(module: URL, private readonly name: string) {
    this.worker = new Worker(new URL('./threadBoot.mjs', import.meta.url), { workerData: { module: module.href } });
    this.worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(`${this.name}: ${m.error}`));
      else p?.resolve(m.result);
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`${this.name} exited (${code})`)));
  }

  call<T>(cmd: Command): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, cmd });
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
