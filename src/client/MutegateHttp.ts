/**
 * mutegate's HTTP API (the Graph cloud-communications shape) for clients, browser or Node
 * (fetch). Every method resolves with the reply's JSON body and rejects with MutegateError in the
 * Graph error's terms; the paths are the ones /openapi.json documents.
 */
import { MutegateError, MutegateTimeout } from './MutegateError.js';

type Body = Record<string, unknown>;

/** The Graph paths, for clients that send requests their own way (e.g. a benchmark's keep-alive agent). */
export const graphPaths = {
  calls: '/communications/calls',
  call: (callId: string) => `/communications/calls/${encodeURIComponent(callId)}`,
  participants: (callId: string) => `/communications/calls/${encodeURIComponent(callId)}/participants`,
  participant: (callId: string, participantId: string) => `/communications/calls/${encodeURIComponent(callId)}/participants/${encodeURIComponent(participantId)}`,
  participantAction: (callId: string, participantId: string, action: string) =>
    `/communications/calls/${encodeURIComponent(callId)}/participants/${encodeURIComponent(participantId)}/${action}`,
  muteAll: (callId: string) => `/communications/calls/${encodeURIComponent(callId)}/muteAll`,
  operation: (callId: string, operationId: string) => `/communications/calls/${encodeURIComponent(callId)}/operations/${encodeURIComponent(operationId)}`,
} as const;

export type ParticipantAction = 'mute' | 'unmute' | 'requestUnmute' | 'lock' | 'unlock' | 'deafen' | 'undeafen' | 'raiseHand' | 'lowerHand';

export interface HttpOptions {
  /** The bearer token. */
  token?: string;
  /** How long a request waits for its answer (default 10 s). */
  timeoutMs?: number;
  /** A fetch of your own (default: the global one). */
  fetch?: typeof fetch;
}

/** A reply: its body, and the headers a client may want (Location of what was created or done). */
export interface HttpReply<T = Body> {
  status: number;
  body: T;
  location: string | null;
}

export class MutegateHttp {
  private readonly fetch: typeof fetch;

  constructor(
    readonly baseUrl: string,
    private readonly options: HttpOptions = {},
  ) {
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  createCall(body: Body): Promise<HttpReply> {
    return this.send('POST', graphPaths.calls, body);
  }

  listCalls(): Promise<HttpReply<{ value: Body[] }>> {
    return this.send('GET', graphPaths.calls) as Promise<HttpReply<{ value: Body[] }>>;
  }

  getCall(callId: string): Promise<HttpReply> {
    return this.send('GET', graphPaths.call(callId));
  }

  updateCall(callId: string, body: Body): Promise<HttpReply> {
    return this.send('PATCH', graphPaths.call(callId), body);
  }

  endCall(callId: string): Promise<HttpReply> {
    return this.send('DELETE', graphPaths.call(callId));
  }

  /** A plain-RTP participant (see the README for `media`). */
  joinParticipant(callId: string, body: Body): Promise<HttpReply> {
    return this.send('POST', graphPaths.participants(callId), body);
  }

  listParticipants(callId: string): Promise<HttpReply<{ value: Body[] }>> {
    return this.send('GET', graphPaths.participants(callId)) as Promise<HttpReply<{ value: Body[] }>>;
  }

  getParticipant(callId: string, participantId: string): Promise<HttpReply> {
    return this.send('GET', graphPaths.participant(callId, participantId));
  }

  /** A new send stream (`{ media: { ssrc, payloadType } }`, as after a SIP re-INVITE); a muted participant's new stream is paused before the reply. */
  updateParticipant(callId: string, participantId: string, body: Body): Promise<HttpReply> {
    return this.send('PATCH', graphPaths.participant(callId, participantId), body);
  }

  removeParticipant(callId: string, participantId: string): Promise<HttpReply> {
    return this.send('DELETE', graphPaths.participant(callId, participantId));
  }

  /** The application's own participant in the call (its `source`): Graph's call-level mute. */
  muteSelf(callId: string, clientContext?: string): Promise<HttpReply> {
    return this.send('POST', `${graphPaths.call(callId)}/mute`, clientContext !== undefined ? { clientContext } : {});
  }

  unmuteSelf(callId: string, clientContext?: string): Promise<HttpReply> {
    return this.send('POST', `${graphPaths.call(callId)}/unmute`, clientContext !== undefined ? { clientContext } : {});
  }

  /** Server mute: resolves once the media worker confirmed the pause (the finished operation). */
  mute(callId: string, participantId: string, clientContext?: string): Promise<HttpReply> {
    return this.participantAction('mute', callId, participantId, clientContext);
  }

  unmute(callId: string, participantId: string, clientContext?: string): Promise<HttpReply> {
    return this.participantAction('unmute', callId, participantId, clientContext);
  }

  participantAction(action: ParticipantAction, callId: string, participantId: string, clientContext?: string): Promise<HttpReply> {
    return this.send('POST', graphPaths.participantAction(callId, participantId, action), clientContext !== undefined ? { clientContext } : {});
  }

  muteAll(callId: string, exceptParticipantIds: string[] = [], clientContext?: string): Promise<HttpReply> {
    return this.send('POST', graphPaths.muteAll(callId), { exceptParticipantIds, ...(clientContext !== undefined ? { clientContext } : {}) });
  }

  getOperation(callId: string, operationId: string): Promise<HttpReply> {
    return this.send('GET', graphPaths.operation(callId, operationId));
  }

  private async send(method: string, path: string, body?: Body): Promise<HttpReply> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    let response: Response;
    let text: string;
    try {
      response = await this.fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new MutegateTimeout(`no answer to ${method} ${path} within ${timeoutMs} ms`);
      throw err;
    }
    let parsed: Body = {};
    try {
      parsed = (text ? JSON.parse(text) : {}) as Body;
    } catch {
      // Not JSON (e.g. a proxy's error page): an error below if the status says so.
      if (response.ok) throw new MutegateError(response.status, 'invalidResponse', '', `${method} ${path} answered ${response.status} with a body that is not JSON`);
    }
    const location = response.headers.get('location');
    if (!response.ok) {
      const error = (parsed.error ?? {}) as { code?: string; message?: string; innerError?: { code?: string } };
      throw new MutegateError(response.status, error.code ?? '', error.innerError?.code ?? '', error.message ?? `${method} ${path} answered ${response.status}`, location);
    }
    return { status: response.status, body: parsed, location };
  }
}
