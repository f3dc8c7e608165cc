import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './freePort.js';

/**
 * A real redis-server (Debian's, installed by scripts/setup.sh --test) on a free port of
 * 127.0.0.1, that a test or the bench's cluster profile can kill and start again on the same
 * port. It saves nothing by itself, so it restarts empty, unless a client ran SAVE: then it
 * restarts from that snapshot (its own data directory, never the caller's working directory).
 */
export class RedisProcess {
  private child: ChildProcess | undefined;

  private readonly dir = mkdtempSync(join(tmpdir(), 'mutegate-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisProcess> {
    const server = new RedisProcess(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) and resolves once it answers PING. */
  async restart(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: 'ignore' });
    const exited = new Promise<never>((_resolve, reject) => this.child?.once('exit', (code) => reject(new Error(`redis-server exited (${code})`))));
    const deadline = Date.now() + 5000;
    for (;;) {
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await Promise.race([probe.connect().then(() => probe.ping()), exited]);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  /** Kills it (SIGKILL: no goodbye to its clients) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** A client for the caller's own reads. */
  client(): Redis {
    return new Redis(this.url, { maxRetriesPerRequest: 0 });
  }
}
