import { createServer, type IncomingMessage, type Server } from 'node:http';

/** A local HTTP receiver for Graph webhooks on 127.0.0.1 that records every POST. */
export class WebhookReceiver {
  readonly received: { body: any; at: number }[] = []; // `any`: notifications are inspected field by field
  attempts = 0;
  /** Decides the status of each attempt (default 202). */
  respond: (attempt: number, body: any) => number = () => 202;
  /** How long each answer takes (a slow backend). */
  delayMs = 0;

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    let receiver!: WebhookReceiver;
    const server = createServer((req: IncomingMessage, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        const body = JSON.parse(data);
        const status = receiver.respond(++receiver.attempts, body);
        if (status >= 200 && status < 300) receiver.received.push({ body, at: Date.now() });
        setTimeout(() => res.writeHead(status).end(), receiver.delayMs);
      });
    });
    receiver = new WebhookReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    const address = this.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/graph/notifications`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
