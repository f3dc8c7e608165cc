import { CometD, type Message } from 'cometd';
import { adapt } from 'cometd-nodejs-client';
import { waitFor } from './gateway.js';

// The real CometD JavaScript client, made to run in Node by cometd-nodejs-client.
adapt();

/** A Genesys agent desktop's notification channel: the cometd client subscribed to /v2/me/calls. */
export class CometdAgent {
  readonly messages: Message[] = [];
  readonly client = new CometD();

  /** `token`: the agent's bearer token (its subject is the agent); undefined sends none. */
  constructor(
    baseUrl: string,
    readonly token: string | undefined,
    transport: 'websocket' | 'long-polling' = 'websocket',
  ) {
    if (transport === 'long-polling') this.client.unregisterTransport('websocket');
    this.client.configure({ url: `${baseUrl}/cometd`, logLevel: 'warn' });
  }

  handshake(): Promise<Message> {
    return new Promise((resolve) => this.client.handshake(this.token === undefined ? {} : { ext: { authorization: `Bearer ${this.token}` } }, resolve));
  }

  subscribe(channel = '/v2/me/calls'): Promise<Message> {
    return new Promise((resolve) => {
      this.client.subscribe(channel, (m) => this.messages.push(m), resolve);
    });
  }

  get transport(): string {
    return this.client.getTransport()?.type ?? 'none';
  }

  async waitForMessages(count: number, timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.messages.length >= count, timeoutMs, `${count} CometD messages`);
  }

  disconnect(): Promise<void> {
    return new Promise((resolve) => this.client.disconnect(() => resolve()));
  }
}
