/**
 * CPU time of processes and threads from /proc (Linux): utime + stime of /proc/<pid>/stat (a
 * process, all its threads) or /proc/<pid>/task/<tid>/stat (one thread), in clock ticks.
 * Sampled before and after a window, the difference divided by the window is the share of one
 * core that process used. Off Linux every reading is NaN and the report says "–".
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** USER_HZ (almost always 100): the unit of the stat times. */
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** The fields after the command name, which is in parentheses and may itself contain spaces or ')'. */
function statFields(path: string): string[] | null {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null; // gone, or not Linux
  }
}

/** utime + stime in seconds, NaN if unreadable. Fields 14 and 15 of stat(5), 11 and 12 after the name. */
function cpuSeconds(path: string): number {
  const f = statFields(path);
  if (!f) return NaN;
  return (Number(f[11]) + Number(f[12])) / clockTicksPerSecond();
}

/** CPU seconds a whole process has used (every thread, live or ended). */
export const processCpuSeconds = (pid: number): number => cpuSeconds(`/proc/${pid}/stat`);

/** CPU seconds one thread of a process has used (tid = pid: the main thread). */
export const threadCpuSeconds = (pid: number, tid: number): number => cpuSeconds(`/proc/${pid}/task/${tid}/stat`);

/** Direct children of `pid` (e.g. a gateway's mediasoup workers), by scanning /proc/<n>/stat's ppid. */
export function childPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(`/proc/${name}/stat`);
    if (f && Number(f[1]) === pid) children.push(Number(name));
  }
  return children;
}

/** Something whose CPU the bench reports: a name and how to read its cumulative CPU seconds. */
export interface CpuSource {
  name: string;
  read(): number;
}

export const processSource = (name: string, pid: number): CpuSource => ({ name, read: () => processCpuSeconds(pid) });

/** Several processes counted as one (e.g. all workers of a gateway). */
export const processesSource = (name: string, pids: number[]): CpuSource => ({
  name,
  read: () => pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
});

/** The bench's main thread only (it times the API calls; the RTP and fan-out threads are separate). */
export const mainThreadSource = (name: string): CpuSource => ({ name, read: () => threadCpuSeconds(process.pid, process.pid) });

/** Per source: percent of one core used between start() and the returned stop(). */
export function startCpuWindow(sources: CpuSource[]): () => Record<string, number> {
  const started = process.hrtime.bigint();
  const before = sources.map((s) => s.read());
  return () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return Object.fromEntries(sources.map((s, i) => [s.name, (100 * (s.read() - (before[i] as number))) / seconds]));
  };
}
