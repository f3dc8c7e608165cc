import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The HTTP requests the server has received and not yet answered, so that shutdown can let them
 * finish before it ends the calls they act on. A request counts from the moment Node hands it to
 * the server, i.e. also while it is still being authenticated, until its response is closed
 * (sent, or the connection went away).
 */
export class InFlightRequests {
  private closing = false;
  /** Received before shutdown began and not answered yet. */
  private readonly pending = new Set<ServerResponse>();
  private readonly lateArrivals = new WeakSet<IncomingMessage>();
  private readonly idleWaiters = new Set<() => void>();

  /** Called for every request the API (not the CometD transport) receives, before anything else. */
  track(request: IncomingMessage, response: ServerResponse): void {
    if (this.closing) {
      this.lateArrivals.add(request);
      return;
    }
    this.pending.add(response);
    response.on('close', this.answered);
  }

  /**
   * The 'close' listener of every tracked response (`this` is the response; 'close' comes once):
   * one function for all, rather than a closure per request.
   */
  private readonly answered = ((requests: InFlightRequests) =>
    function (this: ServerResponse): void {
      requests.pending.delete(this);
      if (requests.pending.size === 0) for (const wake of [...requests.idleWaiters]) wake();
    })(this);

  /** From now on, new requests are refused (see arrivedWhileClosing); those already received are served. */
  startClosing(): void {
    this.closing = true;
  }

  /** The request arrived after shutdown began: it is answered 503 rather than served. */
  arrivedWhileClosing(request: IncomingMessage): boolean {
    return this.lateArrivals.has(request);
  }

  /** Requests received (before shutdown began) and not answered yet. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves once every request received before shutdown began has been answered, or after `timeoutMs` (with false). */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const done = (settled: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(wake);
        resolve(settled);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.idleWaiters.add(wake);
    });
  }
}
