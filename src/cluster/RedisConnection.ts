import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { SafeEventEmitter } from '../lib/SafeEventEmitter.js';

export interface RedisConnectionEvents {
  /** Connected (again): what waited for Redis can be written now. */
  up: [];
  /** Lost: writes fail at once until `up`. */
  down: [];
}

/** The longest wait between two reconnect attempts (ioredis retryStrategy below). */
export const MAX_RECONNECT_BACKOFF_MS = 2000;

/**
 * After a (re)connect, how long what Redis holds may still be missing what the other nodes host:
 * a Redis that restarted (empty, or from an older snapshot without live registrations) is written
 * again by every node as soon as that node reconnects (its backoff, plus a connect attempt that
 * may time out) and resyncs; twice that leaves room for the writes. Never shorter than the time
 * after which the cluster counts a silent node as gone anyway (nodeTtlMs).
 */
export function restoreWindowMs(nodeTtlMs: number, connectTimeoutMs: number): number {
  return Math.max(nodeTtlMs, 2 * (MAX_RECONNECT_BACKOFF_MS + connectTimeoutMs));
}

/**
 * The node's one connection to the cluster's Redis. Commands never wait in a queue for a Redis
 * that is not there (no offline queue, one try, a command timeout): a mute must not hang on it.
 * It reconnects by itself, with a backoff of up to 2 s, for as long as the node runs.
 */
export class RedisConnection extends SafeEventEmitter<RedisConnectionEvents> {
  readonly client: Redis;
  private connected = false;
  private closed = false;
  /**
   * Whether the next connection opens the restore window: every one after the first, and the
   * first too once start() gave up waiting for it (it comes later, maybe to a Redis that restarted).
   */
  private windowOnConnect = false;
  /** performance.now() when the connection came back (or first came after a degraded start); null: not since start. */
  private reconnectedAt: number | null = null;
  private readonly restoreWindowMs: number;

  constructor(url: string, commandTimeoutMs: number, nodeTtlMs: number, logger: Logger) {
    super();
    const connectTimeout = Math.max(1000, commandTimeoutMs);
    this.restoreWindowMs = restoreWindowMs(nodeTtlMs, connectTimeout);
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: commandTimeoutMs,
      connectTimeout,
      retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_BACKOFF_MS),
      lazyConnect: true,
    });
    this.client.on('ready', () => {
      if (this.connected) return;
      this.connected = true;
      // A monotonic clock: a wall-clock step must not stretch or shrink the window.
      if (this.windowOnConnect) this.reconnectedAt = performance.now();
      this.windowOnConnect = true;
      logger.info('connected to the cluster Redis');
      this.emit('up');
    });
    const lost = () => {
      if (!this.connected) return;
      this.connected = false;
      if (!this.closed) logger.warn('lost the cluster Redis: mutes are still enforced here; unmutes and new calls answer 503 until it is back');
      this.emit('down');
    };
    this.client.on('close', lost);
    this.client.on('end', lost);
    // Connection errors are what `down` and the reconnects are about; without a listener ioredis logs them to stderr.
    this.client.on('error', () => undefined);
  }

  /** Connects; resolves also when Redis is not reachable yet (the node starts degraded and keeps trying). */
  async start(timeoutMs: number): Promise<void> {
    this.client.connect().catch(() => undefined);
    if (this.connected) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.windowOnConnect = true;
        resolve();
      }, timeoutMs);
      this.once('up', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get up(): boolean {
    return this.connected;
  }

  /**
   * Connected again (or for the first time after a degraded start) within the restore window
   * (restoreWindowMs): Redis may have come back from a restart and not hold yet what the other
   * nodes are writing again, so something missing from it is not known to be gone.
   */
  get restoring(): boolean {
    return this.connected && this.reconnectedAt !== null && performance.now() - this.reconnectedAt < this.restoreWindowMs;
  }

  close(): void {
    this.closed = true;
    this.client.disconnect();
  }
}
