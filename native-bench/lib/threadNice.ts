/**
 * The calling thread's scheduling priority (nice), for bench threads. On Linux setpriority() on a
 * thread id changes that thread alone, and /proc/thread-self names the calling thread. A lower
 * value (higher priority) needs CAP_SYS_NICE; a higher one never does. Answers the value in
 * effect (null: left as it was) and, when the requested one could not be set, why.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

export interface ThreadPriority {
  nice: number | null;
  error?: string;
}

export function setOwnNice(nice: number | null): ThreadPriority {
  if (nice === null) return { nice: null };
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, nice);
    return { nice };
  } catch (err) {
    return { nice: null, error: (err as Error).message };
  }
}
