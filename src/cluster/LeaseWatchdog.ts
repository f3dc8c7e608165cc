import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * The watchdog's program, run by `node -e` so that it needs no file of its own at run time. It
 * reads lines from stdin: `arm <deadline>` (process.hrtime.bigint() in ns, the machine's
 * CLOCK_MONOTONIC, the same in every process) or `disarm`. At an armed deadline it SIGKILLs every
 * mediasoup worker that is a child of the node (its parent) and carries the node's pool id in its
 * environment (argv[1]; see WorkerPool.spawn) at that moment, found in /proc: also a worker that
 * replaced another one a moment before and that the node has not even adopted yet, never a
 * process that merely reused a dead worker's pid, nor a worker of another gateway in the same
 * process (tests run several). It says so on stderr. When stdin
 * ends (the node exited, or closed it) it exits. It does nothing else, so it runs on when the
 * node's event loop does not.
 */
const PROGRAM = `
const fs = require('node:fs');
const path = require('node:path');
const node = process.ppid;
const mark = '\\0' + process.argv[1] + '\\0';
let timer;
let pending = '';
const workersOfNode = () => fs.readdirSync('/proc').filter((name) => {
  if (!/^[0-9]+$/.test(name)) return false;
  try {
    const stat = fs.readFileSync('/proc/' + name + '/stat', 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid !== node || path.basename(fs.readlinkSync('/proc/' + name + '/exe')) !== 'mediasoup-worker') return false;
    return ('\\0' + fs.readFileSync('/proc/' + name + '/environ', 'utf8')).includes(mark);
  } catch { return false; }
});
const apply = (line) => {
  clearTimeout(timer);
  const [what, deadline] = line.trim().split(' ');
  if (what !== 'arm') return;
  const inMs = Number(BigInt(deadline) - process.hrtime.bigint()) / 1e6;
  timer = setTimeout(() => {
    const killed = [];
    for (const pid of workersOfNode()) {
      try { process.kill(Number(pid), 'SIGKILL'); killed.push(pid); } catch {}
    }
    process.stderr.write(JSON.stringify({ msg: 'lease watchdog: the node did not renew its cluster lease or hold its media in time: media workers killed', killed }) + '\\n');
  }, Math.max(0, inMs));
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let at;
  while ((at = pending.indexOf('\\n')) >= 0) { apply(pending.slice(0, at)); pending = pending.slice(at + 1); }
});
process.stdin.on('end', () => process.exit(0));
`;

/**
 * A separate process that stops this node's media workers when the node's lease on its calls
 * runs out while nothing else did. The node itself holds every send stream paused before that
 * (the media fence, ClusterNode), but only if its event loop runs and its workers answer: a node
 * process that is stopped or blocked, or a worker that cannot confirm the fence's pause, would
 * let the workers forward everyone while another node takes the calls over and answers mutes for
 * them. The watchdog is armed with a deadline just before the lease can expire in Redis, moved on
 * at every renewal, and disarmed once the fence's pauses are confirmed. The workers it kills are
 * replaced by the pool, and the calls' media rebuilt behind the fence, as after any crash.
 */
export class LeaseWatchdog {
  private child: ChildProcess | undefined;
  private closed = false;
  /** The last line sent (an arm or a disarm), sent again to a watchdog started anew. */
  private last = 'disarm';

  constructor(
    private readonly logger: Logger,
    /** `NAME=id` of the environment entry that marks the node's workers (WorkerPool.spawn). */
    private readonly workerMark: string,
  ) {
    this.start();
  }

  /** Kills the node's workers at `deadline` (process.hrtime.bigint()) unless armed again or disarmed before. */
  arm(deadline: bigint): void {
    this.send(`arm ${deadline}`);
  }

  disarm(): void {
    this.send('disarm');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.send('disarm');
    this.child?.stdin?.end();
  }

  private start(): void {
    // Its own process group: a signal to the node's group (Ctrl-C, kill -INT -pgid) leaves it running.
    const child = spawn(process.execPath, ['-e', PROGRAM, this.workerMark], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    this.child = child;
    child.on('error', (err) => this.logger.error({ err }, 'the lease watchdog could not be started'));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (line: string) => this.logger.warn({ watchdog: line.trim() }, 'lease watchdog'));
    child.stdin?.on('error', () => undefined); // it died: told below, started anew
    child.on('exit', (code, signal) => {
      if (this.closed || this.child !== child) return;
      this.logger.error({ code, signal }, 'the lease watchdog exited: starting it again');
      // Not in a tight loop if it cannot run at all.
      setTimeout(() => {
        if (this.closed) return;
        this.start();
        this.send(this.last);
      }, 1000).unref();
    });
    child.unref();
    for (const stream of [child.stdin, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private send(line: string): void {
    this.last = line;
    if (this.child?.stdin?.writable) this.child.stdin.write(`${line}\n`);
  }
}
