/**
 * The big-call bench's mute client, in a thread of its own: it sends each mute or unmute over
 * HTTP and times it (request → 200 on the bench's monotonic clock, the same as every other
 * thread's), and does nothing else. On the main thread the round trip also held whatever else
 * that thread had to do at the moment (messages from the load threads, its timers, and the
 * garbage collection of a heap that holds the whole bench); a moderator's client is not busy
 * with a load generator. The thread also notes its own stalls and GC pauses (StallRecorder), so
 * that what is left of the client in a slow mute still shows.
 */
import { HttpMuteClient } from '../HttpMuteClient.js';
import { MuteRejected } from '../muteClient.js';
import { nowMs } from '../RtpPeer.js';
import { serveThread } from '../serveThread.js';
import { setOwnNice } from '../threadNice.js';
import { StallRecorder, type Interval } from './benchStalls.js';

export type MuteThreadCommand =
  | { op: 'open'; baseUrl: string; token: string; nice: number | null }
  | { op: 'setMuted'; callId: string; participantId: string; muted: boolean }
  | { op: 'startRecording' }
  | { op: 'stopRecording' }
  | { op: 'close' };

/** One operation as the thread saw it: answered 200 (timed), or with another status. */
export type MuteThreadAnswer = { kind: 'ok'; requestAt: number; ackAt: number; serverTiming: string | undefined } | { kind: 'rejected'; status: number; message: string };

export interface MuteThreadStalls {
  stalls: Interval[];
  gcPauses: Interval[];
}

let client: HttpMuteClient | null = null;
let recorder: StallRecorder | null = null;

async function handle(cmd: MuteThreadCommand): Promise<unknown> {
  switch (cmd.op) {
    case 'open':
      // One socket is enough: the mutes go one at a time, and keep-alive spares a handshake each.
      client = new HttpMuteClient(cmd.baseUrl, cmd.token, 4);
      return setOwnNice(cmd.nice);
    case 'setMuted': {
      if (!client) throw new Error('mute thread not opened');
      const c = client;
      const send = async (): Promise<MuteThreadAnswer> => {
        const requestAt = nowMs();
        try {
          const serverTiming = await c.setMutedTimed(cmd.callId, cmd.participantId, cmd.muted);
          return { kind: 'ok', requestAt, ackAt: nowMs(), serverTiming };
        } catch (err) {
          if (err instanceof MuteRejected) return { kind: 'rejected', status: err.status, message: err.message };
          throw err;
        }
      };
      return recorder ? recorder.watch(send) : send();
    }
    case 'startRecording':
      recorder?.stop();
      recorder = new StallRecorder();
      return null;
    case 'stopRecording': {
      const r = recorder;
      recorder = null;
      if (!r) return { stalls: [], gcPauses: [] } satisfies MuteThreadStalls;
      // GC entries reach the observer asynchronously: give the last ones a turn to arrive.
      await new Promise((resolve) => setImmediate(resolve));
      r.stop();
      return { stalls: r.stalls, gcPauses: r.gcPauses } satisfies MuteThreadStalls;
    }
    case 'close':
      recorder?.stop();
      recorder = null;
      await client?.close();
      client = null;
      return null;
  }
}

serveThread(handle);
