import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Extension, Publication } from 'faye';

/**
 * Counts, per Bayeux client, the notifications published for it and those that have reached it,
 * so that shutdown can keep the server up until every agent has its final events (the call
 * ended, its leg `Released`).
 *
 * faye cannot be asked: a long-polling client's messages wait in the engine's memory between two
 * /meta/connect requests, and NodeAdapter.close() empties that memory. Shutdown therefore waits
 * (bounded) until every published message has been written to its client — for long-polling, until
 * the response of the /meta/connect that carried it has finished; for WebSocket, until it was sent
 * — and only then closes faye.
 */
export class DeliveryTracker {
  private readonly expected = new Map<string, number>();
  private readonly delivered = new Map<string, number>();
  /** The client of each /meta/connect request (long-polling) or of each WebSocket (its upgrade request). */
  private readonly clientByRequest = new WeakMap<IncomingMessage, string>();
  /** Long-polling requests' responses: a message has arrived only once its response has finished. */
  private readonly responseByRequest = new WeakMap<IncomingMessage, ServerResponse>();
  private readonly waiters = new Set<() => void>();

  /** A faye extension, added after the one that authorizes, so it sees what is actually sent. */
  readonly extension: Extension = {
    incoming: (message, request, callback) => {
      if (request && message.channel === '/meta/connect' && message.clientId) this.clientByRequest.set(request, message.clientId);
      callback(message);
    },
    outgoing: (message, request, callback) => {
      if (request && typeof message.channel === 'string' && !message.channel.startsWith('/meta/') && message.data !== undefined) this.sending(request);
      callback(message);
    },
  };

  /** A long-polling HTTP request is about to be handled by faye. */
  watchResponse(request: IncomingMessage, response: ServerResponse): void {
    this.responseByRequest.set(request, response);
  }

  /** A notification was published for `clientId` (its own channel). */
  published(clientId: string, publication: Publication): void {
    this.expected.set(clientId, (this.expected.get(clientId) ?? 0) + 1);
    // Refused by the server: it will never be delivered.
    publication.errback(() => this.adjust(this.expected, clientId, -1));
  }

  /** The client is gone (disconnected or timed out): nothing more can reach it. */
  forget(clientId: string): void {
    this.expected.delete(clientId);
    this.delivered.delete(clientId);
    this.wake();
  }

  /** Clients with messages published and not yet delivered. */
  pendingClients(): string[] {
    return [...this.expected].filter(([clientId, count]) => (this.delivered.get(clientId) ?? 0) < count).map(([clientId]) => clientId);
  }

  /** Resolves true once every message published so far has reached its client, false after `timeoutMs`. */
  async flushed(timeoutMs: number): Promise<boolean> {
    if (this.pendingClients().length === 0) return true;
    return new Promise<boolean>((resolve) => {
      const check = () => {
        if (this.pendingClients().length === 0) done(true);
      };
      const done = (flushed: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(flushed);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      this.waiters.add(check);
    });
  }

  private sending(request: IncomingMessage): void {
    const clientId = this.clientByRequest.get(request);
    if (!clientId) return;
    const response = this.responseByRequest.get(request);
    // WebSocket: faye writes the frame right after the extensions ran.
    if (!response) return this.adjust(this.delivered, clientId, 1);
    // Long-polling: the message is in this response's body, written once every reply is ready.
    // If the connection goes away first, faye has dropped the message already: nothing to wait for.
    response.once('close', () => {
      if (response.writableFinished) this.adjust(this.delivered, clientId, 1);
      else this.adjust(this.expected, clientId, -1);
    });
  }

  private adjust(counts: Map<string, number>, clientId: string, by: number): void {
    if (!this.expected.has(clientId)) return; // forgotten (disconnected) client
    counts.set(clientId, (counts.get(clientId) ?? 0) + by);
    this.wake();
  }

  private wake(): void {
    for (const check of [...this.waiters]) check();
  }
}
