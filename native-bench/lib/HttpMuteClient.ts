import { Agent, request } from 'node:http';
import { graphPaths } from '../../src/client/index.js';
import { MuteRejected, type MuteClient } from './muteClient.js';

const BODY = Buffer.from('{"clientContext":"native-bench"}');

/**
 * Mute/unmute over the Graph HTTP routes with node:http and a keep-alive agent: connections are
 * reused (no handshake per mute) and there are enough of them for an open-loop ramp, so the
 * client neither queues requests behind each other nor spends its CPU on a heavier stack (fetch).
 * The paths are the typed client's (src/client), whose MutegateHttp uses fetch.
 */
export class HttpMuteClient implements MuteClient {
  readonly transport = 'http';
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly headers: Record<string, string | number>;
  /** The gateway's own account of the last 200 (see lib/hops.ts); sequential probe mutes read it. */
  lastServerTiming: string | undefined;

  /** `maxSockets`: concurrent requests before the agent queues (the ramp's in-flight count stays far below). */
  constructor(baseUrl: string, token: string, maxSockets = 256) {
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
    this.headers = { 'content-type': 'application/json', 'content-length': BODY.length, authorization: `Bearer ${token}` };
  }

  async setMuted(callId: string, participantId: string, muted: boolean): Promise<void> {
    await this.setMutedTimed(callId, participantId, muted);
  }

  /**
   * setMuted, resolving with this 200's own Server-Timing header (undefined: the gateway sent
   * none). lastServerTiming is shared by concurrent requests; this is not.
   */
  setMutedTimed(callId: string, participantId: string, muted: boolean): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: 'POST',
          path: graphPaths.participantAction(callId, participantId, muted ? 'mute' : 'unmute'),
          headers: this.headers,
        },
        (res) => {
          // The body is read to the end (the socket goes back to the pool only then), but not parsed.
          res.on('data', () => undefined);
          const timing = res.statusCode === 200 ? [res.headers['server-timing'] ?? []].flat().join(', ') || undefined : undefined;
          if (res.statusCode === 200) this.lastServerTiming = timing;
          res.on('end', () => (res.statusCode === 200 ? resolve(timing) : reject(new MuteRejected(res.statusCode ?? 0, `${muted ? 'mute' : 'unmute'} answered ${res.statusCode}`))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(BODY);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}
