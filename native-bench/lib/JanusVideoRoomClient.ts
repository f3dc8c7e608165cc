/**
 * A client of Janus's HTTP API ("REST" transport) bound to one session and one handle attached to
 * the VideoRoom plugin. Synchronous VideoRoom requests (create, destroy, add_remote_publisher,
 * rtp_forward, moderate, ...) are answered in the HTTP response itself, so one POST is one
 * request → acknowledgement, like the gateway's HTTP mute. node:http with a keep-alive agent, as
 * the bench's HTTP mute client for mutegate: the same kind of client for both.
 */
import { Agent, request } from 'node:http';

/** What a VideoRoom request answered (plugindata.data), e.g. { videoroom: 'success', ... }. */
export type VideoRoomReply = Record<string, unknown>;

/** Janus or the VideoRoom plugin refused a request. */
export class JanusError extends Error {
  override name = 'JanusError';

  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Sessions time out after 60 s without a request (janus.jcfg session_timeout): keep-alive well before. */
const KEEPALIVE_MS = 15_000;

export class JanusVideoRoomClient {
  private transactions = 0;
  private sessionId = 0;
  private handleId = 0;
  private keepalive: NodeJS.Timeout | null = null;

  private constructor(
    private readonly agent: Agent,
    private readonly url: URL,
  ) {}

  /** Creates a session, attaches it to janus.plugin.videoroom. `apiUrl`: e.g. http://127.0.0.1:8088/janus. */
  static async connect(apiUrl: string, maxSockets = 256): Promise<JanusVideoRoomClient> {
    const client = new JanusVideoRoomClient(new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' }), new URL(apiUrl));
    const session = await client.core('', { janus: 'create' });
    client.sessionId = (session.data as { id: number }).id;
    const handle = await client.core(`/${client.sessionId}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' });
    client.handleId = (handle.data as { id: number }).id;
    client.keepalive = setInterval(() => {
      client.post(`/${client.sessionId}`, { janus: 'keepalive', transaction: client.transaction() }).catch(() => undefined);
    }, KEEPALIVE_MS);
    client.keepalive.unref();
    return client;
  }

  /**
   * Prepares a VideoRoom request and returns the function that sends it: the body is serialized
   * before the clock starts, so a timed call measures the round trip and Janus only.
   */
  prepare(body: Record<string, unknown>): () => Promise<VideoRoomReply> {
    const payload = Buffer.from(JSON.stringify({ janus: 'message', transaction: this.transaction(), body }));
    return async () => videoRoomData(await this.post(`/${this.sessionId}/${this.handleId}`, payload), String(body.request));
  }

  /** Sends a VideoRoom request; throws JanusError when Janus or the plugin refuses it. */
  message(body: Record<string, unknown>): Promise<VideoRoomReply> {
    return this.prepare(body)();
  }

  /** Destroys the session (and with it the handle) and closes the connections. */
  async close(): Promise<void> {
    if (this.keepalive) clearInterval(this.keepalive);
    await this.post(`/${this.sessionId}`, { janus: 'destroy', transaction: this.transaction() }).catch(() => undefined);
    this.agent.destroy();
  }

  private transaction(): string {
    return `nb${++this.transactions}`;
  }

  private async core(path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = await this.post(path, { ...body, transaction: this.transaction() });
    if (reply.janus !== 'success') throw new JanusError(errorCode(reply), `janus ${String(body.janus)}: ${JSON.stringify(reply.error ?? reply)}`);
    return reply;
  }

  /** POSTs JSON and resolves with the JSON reply (read field by field by the callers). */
  private post(path: string, body: Buffer | Record<string, unknown>): Promise<Record<string, unknown>> {
    const payload = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: 'POST',
          path: this.url.pathname + path,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new JanusError(res.statusCode ?? 0, `janus HTTP ${res.statusCode} for ${path}`));
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function errorCode(reply: Record<string, unknown>): number {
  return Number((reply.error as { code?: number } | undefined)?.code ?? 0);
}

/** plugindata.data of a synchronous VideoRoom reply; throws if the core or the plugin reports an error. */
function videoRoomData(reply: Record<string, unknown>, request: string): VideoRoomReply {
  if (reply.janus !== 'success') throw new JanusError(errorCode(reply), `videoroom ${request}: ${JSON.stringify(reply.error ?? reply)}`);
  const data = (reply.plugindata as { data?: VideoRoomReply } | undefined)?.data;
  if (!data) throw new JanusError(0, `videoroom ${request}: no plugindata in ${JSON.stringify(reply)}`);
  if (data.error_code !== undefined) throw new JanusError(Number(data.error_code), `videoroom ${request}: ${String(data.error)} (${String(data.error_code)})`);
  return data;
}
