import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  // `any`: tests assert on arbitrary JSON bodies field by field.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** The response's bytes as received (latin1), for assertions on the wire format. */
  text: string;
}

/**
 * Sends `request` byte for byte to the gateway (no client library fixes it up: bad URLs, huge
 * headers and garbage reach the server as written) and parses the one response that comes back.
 */
export function rawHttp(baseUrl: string, request: string, timeoutMs = 5000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms; got: ${received.slice(0, 200)}`));
    }, timeoutMs);
    const finish = () => {
      const parsed = parse(received);
      if (!parsed) return false;
      clearTimeout(timer);
      socket.destroy();
      resolve(parsed);
      return true;
    };
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      finish();
    });
    // The server may close right after answering (and, for a refused request, before reading it all).
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!finish()) {
        clearTimeout(timer);
        reject(new Error(`connection closed without a complete response; got: ${received.slice(0, 200)}`));
      }
    });
  });
}

function parse(text: string): RawResponse | null {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  // latin1: one character per byte, so lengths in characters are lengths in bytes.
  if (text.length < end + 4 + length) return null;
  const bodyText = text.slice(end + 4, end + 4 + length);
  let body: unknown = bodyText;
  try {
    body = bodyText ? JSON.parse(Buffer.from(bodyText, 'latin1').toString('utf8')) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body, text: text.slice(0, end + 4 + length) };
}

/**
 * One kept-alive TCP connection to the gateway, opened ahead of time: requests written on it
 * reach the server even after it stopped accepting connections (as a client's pooled connection
 * would). Responses are read in order.
 */
export class RawConnection {
  private received = '';
  private closed = false;
  private readonly waiters: (() => void)[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(baseUrl: string): Promise<RawConnection> {
    const { hostname, port } = new URL(baseUrl);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname);
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes the request now (synchronously, so the caller controls what happens next). */
  write(request: string): void {
    this.socket.write(request);
  }

  /** The next response on this connection, or null if the server closed it without one. */
  async response(timeoutMs = 10_000): Promise<RawResponse | null> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const parsed = parse(this.received);
      if (parsed) {
        this.received = this.received.slice(parsed.text.length);
        return parsed;
      }
      if (this.closed) return null;
      if (Date.now() > until) throw new Error(`no response within ${timeoutMs} ms; got: ${this.received.slice(0, 200)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
