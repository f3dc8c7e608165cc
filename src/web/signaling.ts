/**
 * The page's side of the gateway WebSocket (JSON encoding): requests with ids and their
 * answers, roster notifications, and consumer offers.
 */

// `any`: server messages are JSON read field by field (Graph notifications, mediasoup objects).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export class SignalingError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long a request may wait for its answer before the page says so. */
export const REQUEST_TIMEOUT_MS = 10_000;

export class Signaling {
  private nextId = 1;
  private readonly pending = new Map<string, { resolve: (body: Json) => void; reject: (err: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  onNotification: (message: Json) => void = () => undefined;
  onConsumer: (offer: Json) => void = () => undefined;
  /** A moderator asks us to unmute. */
  onUnmuteRequested: (message: Json) => void = () => undefined;
  /** The server lost our media (worker crash): join again. */
  onReconnect: (message: Json) => void = () => undefined;
  /** The connection ended: its close code and reason (requests in flight fail with it). */
  onClose: (reason: string, code: number) => void = () => undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (event) => this.onMessage(JSON.parse(String(event.data)));
    ws.onclose = (event) => {
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(event.reason || 'connection closed'));
      }
      this.pending.clear();
      this.onClose(event.reason || `closed (${event.code})`, event.code);
    };
  }

  /** Closes the connection as a network failure would look to the page (tests and diagnostics). */
  drop(): void {
    this.ws.close(4000, 'dropped by the page');
  }

  static connect(url: string): Promise<Signaling> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'mutegate.v1.json');
      ws.onopen = () => resolve(new Signaling(ws));
      ws.onerror = () => reject(new Error(`cannot reach ${url}`));
    });
  }

  /** Sends a request; its answer, or an error when the server refuses it or does not answer within timeoutMs. */
  request(type: string, body: Record<string, unknown>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Json> {
    const requestId = `p${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(requestId, new Error(`no answer to ${type} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ type, requestId, ...body }));
    });
  }

  private onMessage(message: Json): void {
    const requestId: string | undefined = message.requestId ?? message['@mutegate.requestId'];
    if (message.type === 'newConsumer') return this.onConsumer(message);
    if (message.type === 'reconnect') return this.onReconnect(message);
    if (message.type === 'unmuteRequested') return this.onUnmuteRequested(message);
    if (message['@odata.type'] === '#microsoft.graph.commsNotifications') {
      this.onNotification(message);
      if (requestId) this.settle(requestId, message);
      return;
    }
    if (!requestId) return;
    if (message.type === 'error') {
      this.fail(requestId, new SignalingError(message.status, message.error?.innerError?.code ?? message.error?.code, message.error?.message ?? 'request failed'));
    } else if (message.type === 'response') {
      this.settle(requestId, message.body);
    }
  }

  private settle(requestId: string, body: Json): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.resolve(body);
    this.pending.delete(requestId);
  }

  private fail(requestId: string, err: Error): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.reject(err);
    this.pending.delete(requestId);
  }
}
