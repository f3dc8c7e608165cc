import type { Address } from '../RtpPeer.js';
import { ThreadClient } from '../ThreadClient.js';
import type { ThreadPriority } from '../threadNice.js';
import type { BigCallCommand, ReceivedRecords, SendSettings, TalkerSpec } from './bigCallThreadWorker.js';

/** The main thread's handle on one big-call bench thread (see bigCallThreadWorker.ts). */
export class BigCallThread {
  private constructor(private readonly thread: ThreadClient<BigCallCommand>) {}

  static start(name: string): BigCallThread {
    return new BigCallThread(new ThreadClient<BigCallCommand>(new URL('./bigCallThreadWorker.ts', import.meta.url), name));
  }

  /** `read`: sampled receivers (every probe is recorded once recording starts); otherwise sockets that discard. */
  open(sockets: number, read: boolean): Promise<{ addresses: Address[]; reading: boolean }> {
    return this.thread.call({ op: 'open', sockets, read });
  }

  addTalkers(talkers: TalkerSpec[], settings: SendSettings): Promise<void> {
    return this.thread.call({ op: 'addTalkers', talkers, settings });
  }

  setLevel(senderId: number, levelDbov: number): Promise<void> {
    return this.thread.call({ op: 'setLevel', senderId, levelDbov });
  }

  /** Per talker: packets sent so far (= the counter of its next packet). */
  async counters(): Promise<Map<number, number>> {
    return new Map(await this.thread.call<[number, number][]>({ op: 'counters' }));
  }

  startRecording(): Promise<void> {
    return this.thread.call({ op: 'startRecording' });
  }

  received(): Promise<ReceivedRecords> {
    return this.thread.call({ op: 'received' });
  }

  /** Send time of every packet of the recorded talkers, by counter. */
  async sentTimes(senderIds: number[]): Promise<Map<number, Float64Array>> {
    return new Map(await this.thread.call<[number, Float64Array][]>({ op: 'sentTimes', senderIds }));
  }

  /** Packets sent, skipped (the thread fell > 100 ms behind) and datagrams read. */
  stats(): Promise<{ sent: number; skipped: number; datagrams: number }> {
    return this.thread.call({ op: 'stats' });
  }

  /** Sets the thread's nice value (null: leaves it); answers the value in effect. */
  nice(nice: number | null): Promise<ThreadPriority> {
    return this.thread.call({ op: 'nice', nice });
  }

  async close(): Promise<void> {
    await this.thread.call({ op: 'close' }).catch(() => undefined);
    await this.thread.terminate();
  }
}
