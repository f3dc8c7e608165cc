import type { FanoutCommand } from './fanoutThreadWorker.js';
import type { FanoutSamples } from './SubscriberSet.js';
import { ThreadClient } from './ThreadClient.js';

export type { Encoding } from './SubscriberSet.js';

/** S roster subscribers in their own thread; the main thread only starts and reads them. */
export class FanoutSubscribers {
  private constructor(private readonly thread: ThreadClient<FanoutCommand>) {}

  static async connect(baseUrl: string, callId: string, count: number, token: string): Promise<FanoutSubscribers> {
    const thread = new ThreadClient<FanoutCommand>(new URL('./fanoutThreadWorker.ts', import.meta.url), 'fan-out thread');
    await thread.call({ op: 'connect', baseUrl, callId, count, token });
    return new FanoutSubscribers(thread);
  }

  /** Arrival of the k-th delta at each subscriber minus ackAt[k], per encoding, and bytes per update. */
  collect(ackAt: number[]): Promise<FanoutSamples> {
    return this.thread.call({ op: 'collect', ackAt });
  }

  async close(): Promise<void> {
    await this.thread.call({ op: 'close' }).catch(() => undefined);
    await this.thread.terminate();
  }
}
