import type { FanoutCommand } from './fanoutThreadWorker.js';
import type { FanoutSamples } from './SubscriberSet.js';
import { ThreadClient } from './ThreadClient.js';

export type { Encoding } from './SubscriberSet.js';

/** Subscribers per fan-out thread: a thread reads its sockets one after another, so fewer is fairer. */
const SUBSCRIBERS_PER_THREAD = 250;
const MAX_THREADS = 4;

/**
 * S roster subscribers spread over a few threads (up to MAX_THREADS, SUBSCRIBERS_PER_THREAD
 * each), so that reading S updates is not serialized in one bench thread; the main thread only
 * starts and reads them.
 */
export class FanoutSubscribers {
  private constructor(private readonly threads: ThreadClient<FanoutCommand>[]) {}

  static threadsFor(count: number): number {
    return Math.max(1, Math.min(MAX_THREADS, Math.ceil(count / SUBSCRIBERS_PER_THREAD)));
  }

  static async connect(baseUrl: string, callId: string, count: number, token: string): Promise<FanoutSubscribers> {
    const n = FanoutSubscribers.threadsFor(count);
    const threads = Array.from({ length: n }, (_, i) => new ThreadClient<FanoutCommand>(new URL('./fanoutThreadWorker.ts', import.meta.url), `fan-out thread ${i + 1}`));
    const fan = new FanoutSubscribers(threads);
    try {
      let firstIndex = 0;
      await Promise.all(
        threads.map((thread, i) => {
          const share = Math.floor(count / n) + (i < count % n ? 1 : 0);
          const cmd: FanoutCommand = { op: 'connect', baseUrl, callId, count: share, token, firstIndex };
          firstIndex += share;
          return thread.call(cmd);
        }),
      );
    } catch (err) {
      await fan.close();
      throw err;
    }
    return fan;
  }

  get threadCount(): number {
    return this.threads.length;
  }

  /** Arrival of the k-th delta at each subscriber minus ackAt[k], per encoding, and bytes per update. */
  async collect(ackAt: number[]): Promise<FanoutSamples> {
    const parts = await Promise.all(this.threads.map((t) => t.call<FanoutSamples>({ op: 'collect', ackAt })));
    return {
      latencyMs: { json: parts.flatMap((p) => p.latencyMs.json), proto: parts.flatMap((p) => p.latencyMs.proto) },
      bytes: { json: parts.flatMap((p) => p.bytes.json), proto: parts.flatMap((p) => p.bytes.proto) },
      missing: parts.reduce((sum, p) => sum + p.missing, 0),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.call({ op: 'close' }).catch(() => undefined)));
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}
