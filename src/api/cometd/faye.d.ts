// Minimal typings for the parts of faye 1.4 that mutegate uses (faye ships no types).
declare module 'faye' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { Duplex } from 'node:stream';

  export interface BayeuxMessage {
    channel: string;
    clientId?: string;
    id?: string;
    subscription?: string | string[];
    successful?: boolean;
    error?: string;
    data?: unknown;
    ext?: Record<string, unknown>;
    [key: string]: unknown;
  }

  export interface Extension {
    incoming?(message: BayeuxMessage, request: IncomingMessage | undefined, callback: (message: BayeuxMessage) => void): void;
    outgoing?(message: BayeuxMessage, request: IncomingMessage | undefined, callback: (message: BayeuxMessage) => void): void;
  }

  /** What the in-process client's publish returns: settles when the server accepted or refused the message. */
  export interface Publication {
    callback(onAccepted: () => void): void;
    errback(onRefused: (error: unknown) => void): void;
  }

  export class NodeAdapter {
    constructor(options: { mount: string; timeout?: number; ping?: number });
    handle(request: IncomingMessage, response: ServerResponse): void;
    handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
    addExtension(extension: Extension): void;
    getClient(): { publish(channel: string, data: unknown): Publication };
    on(event: 'handshake' | 'disconnect', listener: (clientId: string) => void): void;
    close(): void;
  }

  const faye: { NodeAdapter: typeof NodeAdapter };
  export default faye;
}
