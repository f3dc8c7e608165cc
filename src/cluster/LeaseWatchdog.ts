import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * The watchdog's program, run by `node -e` so that it needs no file of its own at run time. It
 * reads lines from stdin: `arm <deadline> <pid> <pid>…` (deadline: process.hrtime.bigint() in ns,
 * the machine's CLOCK_MONOTONIC, the same in every process) or `disarm`; at an armed deadline it
 * SIGKILLs the pids and says so on stderr. When stdin ends (the node exited, or closed it) it
 * exits. It does nothing else, so it runs on when the node's event loop does not.
 */
const PROGRAM = `
let timer;
let pending = '';
const apply = (line) => {
  clearTimeout(timer);
  const [what, deadline, ...pids] = line.trim().split(' ');
  if (what !== 'arm') return;
  const inMs = Number(BigInt(deadline) - process.hrtime.bigint()) / 1e6;
  timer = setTimeout(() => {
    const killed = [];
    for (const pid of pids) {
      try { process.kill(Number(pid), 'SIGKILL'); killed.push(pid); } catch {}
    }
    process.stderr.write(JSON.stringify({ level: 40, msg: 'lease watchdog: the node did not renew its cluster lease or hold its media in time: media workers killed', killed }) + '\\n');
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
  private readonly child: ChildProcess;
  private closed = false;

  constructor(private readonly logger: Logger) {
    this.child = spawn(process.execPath, ['-e', PROGRAM], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (line: string) => this.logger.warn({ watchdog: line.trim() }, 'lease watchdog'));
    this.child.stdin?.on('error', () => undefined); // the watchdog died: nothing to tell it any more
    this.child.on('exit', (code, signal) => {
      if (!this.closed) this.logger.error({ code, signal }, 'the lease watchdog exited: a stalled node will not have its media workers stopped');
    });
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    (this.child.stderr as unknown as { unref?: () => void } | null)?.unref?.();
  }

  /** Kills `pids` at `deadline` (process.hrtime.bigint()) unless armed again or disarmed before. */
  arm(deadline: bigint, pids: readonly number[]): void {
    this.send(`arm ${deadline} ${pids.join(' ')}`);
  }

  disarm(): void {
    this.send('disarm');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.send('disarm');
    this.child.stdin?.end();
  }

  private send(line: string): void {
    if (this.child.stdin?.writable) this.child.stdin.write(`${line}\n`);
  }
}
