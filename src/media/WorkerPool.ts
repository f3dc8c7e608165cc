import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { loadMediasoup } from './loadMediasoup.js';
import { routerMediaCodecs } from './codecs.js';
import { WorkerLoad, type LoadFigures, type WorkerBudget } from './WorkerLoad.js';

export interface WorkerPoolOptions {
  numWorkers: number;
  rtcMinPort: number;
  rtcMaxPort: number;
  logLevel: types.WorkerLogLevel;
  /** What one worker may carry (media.workerBudget); admission keeps every worker within it. */
  budget: WorkerBudget;
}

/** One live worker of the pool and its load. */
export interface PoolWorker {
  readonly pid: number;
  readonly load: WorkerLoad;
}

/** A join (or a call's rebuild) that no worker had room for. */
export interface AdmissionRefusal {
  callId: string;
  message: string;
}

export interface WorkerPoolEvents {
  /** A worker process died unexpectedly; its routers (and every call on them) are gone. */
  workerDied: [{ pid: number; error: Error }];
  /** A replacement worker is up. */
  workerReplaced: [{ deadPid: number; newPid: number }];
  /** A join was refused because no worker had room for it (see WorkerLoad). */
  admissionRefused: [AdmissionRefusal];
}

interface Entry extends PoolWorker {
  readonly worker: types.Worker;
}

const RESPAWN_DELAYS_MS = [0, 250, 1000, 5000];

/** The environment variable that carries the id of the pool a worker belongs to (see spawn). */
export const WORKER_OWNER_ENV = 'MUTEGATE_WORKER_OWNER';

/**
 * A fixed number of mediasoup workers, each with its measured load (WorkerLoad). New calls start
 * on the least loaded worker; a call that outgrows its worker gets routers on others (see
 * CallRouter). A worker that dies is logged, reported and replaced, so the pool never shrinks
 * for good.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  /** This pool's id, in the environment of each of its workers (WORKER_OWNER_ENV). */
  readonly owner = randomUUID();
  private readonly workers: Entry[] = [];
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

  /** The live workers, least loaded first. */
  liveWorkers(): PoolWorker[] {
    return [...this.workers].sort((a, b) => a.load.utilization - b.load.utilization);
  }

  /** Each live worker's load as counted (metrics, diagnostics). */
  loads(): ({ pid: number } & LoadFigures)[] {
    return this.workers.map((w) => ({ pid: w.pid, ...w.load.actual }));
  }

  /**
   * A new Opus router on `on` (a live worker of this pool), or on the least loaded live worker.
   * Everything created in it is counted in that worker's load.
   */
  async createRouter(on?: PoolWorker): Promise<{ router: types.Router; worker: PoolWorker }> {
    if (this.closed) throw new Error('worker pool is closed');
    const entry = on ? this.workers.find((w) => w === on) : (this.liveWorkers()[0] as Entry | undefined);
    if (!entry) throw new Error(on ? `mediasoup worker ${on.pid} is gone` : 'no live mediasoup worker (all died; replacements pending)');
    const router = await entry.worker.createRouter({ mediaCodecs: routerMediaCodecs });
    entry.load.watchRouter(router);
    return { router, worker: entry };
  }

  /** Tells the pool's listeners (metrics) that a join found no room. */
  reportRefusal(refusal: AdmissionRefusal): void {
    this.log.warn(refusal, 'join refused: no media worker has room for it');
    this.emit('admissionRefused', refusal);
  }

  close(): void {
    this.closed = true;
    for (const { worker } of this.workers.splice(0)) worker.close();
  }

  private async spawn(): Promise<types.Worker> {
    const mediasoup = await loadMediasoup();
    // The worker inherits this process's environment when mediasoup spawns it, synchronously
    // inside createWorker: marked with this pool's id, it can be told from the workers of another
    // pool in the same process (tests run several gateways in one) by whatever reads
    // /proc/<pid>/environ (the cluster's lease watchdog).
    const before = process.env[WORKER_OWNER_ENV];
    process.env[WORKER_OWNER_ENV] = this.owner;
    try {
      return mediasoup.createWorker({
        logLevel: this.options.logLevel,
        rtcMinPort: this.options.rtcMinPort,
        rtcMaxPort: this.options.rtcMaxPort,
      });
    } finally {
      if (before === undefined) delete process.env[WORKER_OWNER_ENV];
      else process.env[WORKER_OWNER_ENV] = before;
    }
  }

  private adopt(worker: types.Worker): void {
    if (this.closed) {
      worker.close();
      return;
    }
    const entry: Entry = { worker, pid: worker.pid, load: new WorkerLoad(this.options.budget) };
    this.workers.push(entry);
    worker.on('died', (error) => this.onDied(entry, error));
    this.log.info({ workerPid: worker.pid }, 'mediasoup worker started');
  }

  private onDied(entry: Entry, error: Error): void {
    const { worker } = entry;
    const index = this.workers.indexOf(entry);
    if (index >= 0) this.workers.splice(index, 1);
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
