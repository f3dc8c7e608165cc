import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { loadMediasoup } from './loadMediasoup.js';
import { routerMediaCodecs } from './codecs.js';

export interface WorkerPoolOptions {
  numWorkers: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  logLevel: types.WorkerLogLevel;
}

export interface WorkerPoolEvents {
  /** A worker process died unexpectedly; its routers (and every call on them) are gone. */
  workerDied: [{ pid: number; error: Error }];
  /** A replacement worker is up. */
  workerReplaced: [{ deadPid: number; newPid: number }];
}

const RESPAWN_DELAYS_MS = [0, 250, 1000, 5000];

/**
 * A fixed number of mediasoup workers. Calls are spread over them (least routers first); a
 * worker that dies is logged, reported and replaced, so the pool never shrinks for good.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly workers: types.Worker[] = [];
  private readonly routerCount = new Map<types.Worker, number>();
  private closed = false;

  private constructor(
    private readonly options: WorkerPoolOptions,
    private readonly log: Logger,
  ) {
    super();
  }

  static async create(options: WorkerPoolOptions, log: Logger): Promise<WorkerPool> {
    const pool = new WorkerPool(options, log);
    try {
      for (let i = 0; i < options.numWorkers; i++) pool.adopt(await pool.spawn());
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  /** Pids of the live workers (tests and diagnostics). */
  get pids(): number[] {
    return this.workers.map((w) => w.pid);
  }

  /** A new Opus router on the least loaded live worker. */
  async createRouter(): Promise<types.Router> {
    if (this.closed) throw new Error('worker pool is closed');
    const worker = [...this.workers].sort((a, b) => (this.routerCount.get(a) ?? 0) - (this.routerCount.get(b) ?? 0))[0];
    if (!worker) throw new Error('no live mediasoup worker (all died; replacements pending)');
    const router = await worker.createRouter({ mediaCodecs: routerMediaCodecs });
    this.routerCount.set(worker, (this.routerCount.get(worker) ?? 0) + 1);
    router.observer.once('close', () => {
      const count = this.routerCount.get(worker);
      if (count !== undefined) this.routerCount.set(worker, count - 1);
    });
    return router;
  }

  close(): void {
    this.closed = true;
    for (const worker of this.workers.splice(0)) worker.close();
    this.routerCount.clear();
  }

  private async spawn(): Promise<types.Worker> {
    const mediasoup = await loadMediasoup();
    return mediasoup.createWorker({
      logLevel: this.options.logLevel,
      rtcMinPort: this.options.rtcMinPort,
      rtcMaxPort: this.options.rtcMaxPort,
    });
  }

  private adopt(worker: types.Worker): void {
    if (this.closed) {
      worker.close();
      return;
    }
    this.workers.push(worker);
    this.routerCount.set(worker, 0);
    worker.on('died', (error) => this.onDied(worker, error));
    this.log.info({ workerPid: worker.pid }, 'mediasoup worker started');
  }

  private onDied(worker: types.Worker, error: Error): void {
    const index = this.workers.indexOf(worker);
    if (index >= 0) this.workers.splice(index, 1);
    this.routerCount.delete(worker);
    if (this.closed) return;
    this.log.error({ workerPid: worker.pid, err: error }, 'mediasoup worker died; replacing it');
    this.emit('workerDied', { pid: worker.pid, error });
    void this.replace(worker.pid);
  }

  private async replace(deadPid: number): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      const delay = RESPAWN_DELAYS_MS[Math.min(attempt, RESPAWN_DELAYS_MS.length - 1)] ?? 0;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay).unref());
      try {
        const worker = await this.spawn();
        this.adopt(worker);
        if (!this.closed) {
          this.log.info({ deadPid, newPid: worker.pid }, 'mediasoup worker replaced');
          this.emit('workerReplaced', { deadPid, newPid: worker.pid });
        }
        return;
      } catch (err) {
        this.log.error({ err, attempt }, 'could not start a replacement mediasoup worker; retrying');
      }
    }
  }
}
