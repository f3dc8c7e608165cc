import { MuteRejected } from '../muteClient.js';
import { ThreadClient } from '../ThreadClient.js';
import type { ThreadPriority } from '../threadNice.js';
import type { MuteAck } from './muteCycles.js';
import type { MuteThreadAnswer, MuteThreadCommand, MuteThreadStalls } from './muteThreadWorker.js';

/** The main thread's handle on the big-call mute client thread (see muteThreadWorker.ts). */
export class MuteThread {
  private constructor(
    private readonly thread: ThreadClient<MuteThreadCommand>,
    /** The thread's nice value in effect (null: left as it was), and why a requested one could not be set. */
    readonly priority: ThreadPriority,
  ) {}

  /** `nice`: the thread's scheduling priority (-20…19; null: leave it as the process's). */
  static async open(baseUrl: string, token: string, nice: number | null): Promise<MuteThread> {
    const thread = new ThreadClient<MuteThreadCommand>(new URL('./muteThreadWorker.ts', import.meta.url), 'big-call mute client');
    const priority = await thread.call<ThreadPriority>({ op: 'open', baseUrl, token, nice });
    return new MuteThread(thread, priority);
  }

  /** Mutes or unmutes; resolves with the thread's own timing on 200, rejects with MuteRejected otherwise. */
  async setMuted(callId: string, participantId: string, muted: boolean): Promise<MuteAck> {
    const answer = await this.thread.call<MuteThreadAnswer>({ op: 'setMuted', callId, participantId, muted });
    if (answer.kind === 'rejected') throw new MuteRejected(answer.status, answer.message);
    return { requestAt: answer.requestAt, ackAt: answer.ackAt, serverTiming: answer.serverTiming };
  }

  /** Starts noting the thread's stalls and GC pauses. */
  startRecording(): Promise<void> {
    return this.thread.call({ op: 'startRecording' });
  }

  /** Stops, and answers what was noted since startRecording. */
  stopRecording(): Promise<MuteThreadStalls> {
    return this.thread.call({ op: 'stopRecording' });
  }

  async close(): Promise<void> {
    await this.thread.call({ op: 'close' }).catch(() => undefined);
    await this.thread.terminate();
  }
}
