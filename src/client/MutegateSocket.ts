/**
 * mutegate's WebSocket protocol for clients (browser or Node), in either encoding: requests
 * answered by id (with a timeout), rosters kept up to date from snapshots and deltas, and the
 * protocol's gap rule built in: a delta whose sequence is not the next one makes the client ask
 * for a fresh snapshot (`resync`) and ignore deltas until it has it, so a roster is never
 * silently wrong.
 */
import { jsonEncoding, type ClientRequestFields, type ConsumerOffer, type RosterParticipant, type ServerFrame, type WireEncoding } from './frames.js';
import { MutegateError, MutegateTimeout } from './MutegateError.js';

/** The close code of a connection the server closed for too many requests (RFC 6455 policy violation). */
export const CLOSE_TOO_MANY_REQUESTS = 1008;
/** How long a resync refused for its rate (429) waits before it is asked again. */
const RESYNC_RETRY_MS = 1000;

/** The subset of the WHATWG WebSocket both the browser's and `ws`'s implement. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** `new WebSocket(url, protocol, options)`: the browser's (options ignored) or `ws` (headers honoured). */
export type WebSocketConstructor = new (url: string, protocol: string, options?: { headers?: Record<string, string> }) => WebSocketLike;

export interface SocketOptions {
  /** The bearer token. */
  token?: string;
  /** JSON (default) or protobuf (`protoEncoding` from `mutegate/client/proto`, Node). */
  encoding?: WireEncoding;
  /** The WebSocket class: the global one in a browser, `ws`'s default export in Node. */
  WebSocket?: WebSocketConstructor;
  /**
   * Where the token goes: the `Authorization` header (default when a WebSocket class is given,
   * i.e. Node), or `?access_token=` (the only way a browser can send it).
   */
  tokenIn?: 'header' | 'query';
  /** The endpoint's path (default `/ws`). */
  path?: string;
  /** How long a request waits for its answer (default 10 s). */
  requestTimeoutMs?: number;
  /** How long opening the connection may take (default 10 s). */
  connectTimeoutMs?: number;
}

/** A call's roster as this client knows it. */
export interface Roster {
  readonly callId: string;
  /** The sequence number of the last change applied. */
  sequence: number;
  readonly participants: Map<string, RosterParticipant>;
  /** The call ended (its last delta); no more changes follow. */
  ended: boolean;
}

type Delta = Extract<ServerFrame, { type: 'delta' }>;
type Snapshot = Extract<ServerFrame, { type: 'snapshot' }>;

export interface SocketEvents {
  /** A roster changed: after its snapshot (subscribe, resync) or a delta applied in sequence. */
  roster: (roster: Roster, frame: Snapshot | Delta) => void;
  /** A delta did not follow the last sequence: a resync was asked for. */
  gap: (callId: string, expected: number, received: number) => void;
  consumer: (offer: ConsumerOffer) => void;
  consumerClosed: (frame: Extract<ServerFrame, { type: 'consumerClosed' }>) => void;
  unmuteRequested: (frame: Extract<ServerFrame, { type: 'unmuteRequested' }>) => void;
  /** The server lost this connection's participant's media: join again (the mute state is kept). */
  reconnect: (frame: Extract<ServerFrame, { type: 'reconnect' }>) => void;
  /** Every decoded frame, before anything else sees it. */
  frame: (frame: ServerFrame) => void;
  close: (code: number, reason: string) => void;
}

interface Pending {
  resolve(frame: ServerFrame): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Followed {
  roster: Roster;
  /** A resync is on its way: deltas are ignored until its snapshot. */
  resyncing: boolean;
}

const OPEN = 1;
const DEFAULT_TIMEOUT_MS = 10_000;

export class MutegateSocket {
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly followed = new Map<string, Followed>();
  // One set of listeners per event; typed at on() and emit().
  private readonly listeners = new Map<keyof SocketEvents, Set<(...args: never[]) => void>>();

  private constructor(
    private readonly ws: WebSocketLike,
    readonly encoding: WireEncoding,
    private readonly requestTimeoutMs: number,
  ) {
    ws.onmessage = (event) => this.onData(event.data);
    ws.onclose = (event) => {
      for (const [requestId, p] of this.pending) {
        clearTimeout(p.timer);
        // 1008: the server closed it for too many requests (limits.requestsPerSecond): a 429, to
        // be told from a network failure (slow down, then connect again).
        p.reject(
          event.code === CLOSE_TOO_MANY_REQUESTS
            ? new MutegateError(429, 'tooManyRequests', 'tooManyRequests', `the server closed the connection for too many requests before the answer to ${requestId}: ${event.reason}`)
            : new Error(`connection closed before the answer to ${requestId} (${event.code} ${event.reason})`),
        );
      }
      this.pending.clear();
      this.emit('close', event.code, event.reason);
    };
  }

  /** Opens a connection to the gateway at `baseUrl` (http(s)://host:port). */
  static connect(baseUrl: string, options: SocketOptions = {}): Promise<MutegateSocket> {
    const encoding = options.encoding ?? jsonEncoding;
    const Impl = options.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl) throw new Error('no WebSocket implementation: pass options.WebSocket (in Node: the ws package)');
    const tokenIn = options.tokenIn ?? (options.WebSocket ? 'header' : 'query');
    const url = new URL(options.path ?? '/ws', baseUrl.replace(/^http/, 'ws'));
    if (options.token && tokenIn === 'query') url.searchParams.set('access_token', options.token);
    const headers = options.token && tokenIn === 'header' ? { authorization: `Bearer ${options.token}` } : undefined;
    const ws = new Impl(url.toString(), encoding.subprotocol, headers ? { headers } : undefined);
    ws.binaryType = 'arraybuffer';
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.onopen = ws.onerror = ws.onclose = null;
        ws.close();
        reject(new MutegateTimeout(`no WebSocket to ${url.origin}${url.pathname} within ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      ws.onopen = () => {
        clearTimeout(timer);
        resolve(new MutegateSocket(ws, encoding, options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS));
      };
      ws.onerror = () => {
        clearTimeout(timer);
        reject(new Error(`cannot open a WebSocket to ${url.origin}${url.pathname}`));
      };
      ws.onclose = (event) => {
        clearTimeout(timer);
        reject(new Error(`WebSocket closed while opening (${event.code} ${event.reason})`));
      };
    });
  }

  get open(): boolean {
    return this.ws.readyState === OPEN;
  }

  on<E extends keyof SocketEvents>(event: E, listener: SocketEvents[E]): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const listeners = set;
    listeners.add(listener);
    return () => listeners.delete(listener);
  }

  /**
   * Sends a request and resolves with its answer's body; rejects with MutegateError when the
   * server refuses it and MutegateTimeout when no answer comes within the timeout.
   */
  async request(type: string, fields: { callId: string } & Record<string, unknown>, timeoutMs = this.requestTimeoutMs): Promise<Record<string, unknown>> {
    const frame = await this.send(type, fields, timeoutMs);
    return frame.type === 'response' ? frame.body : {};
  }

  /** Starts following a call's roster; resolves with it as of the snapshot, then keeps it up to date. */
  async subscribe(callId: string): Promise<Roster> {
    const existing = this.followed.get(callId);
    const followed: Followed = existing ?? { roster: { callId, sequence: 0, participants: new Map(), ended: false }, resyncing: true };
    this.followed.set(callId, followed);
    try {
      await this.send('subscribe', { callId }, this.requestTimeoutMs);
    } catch (err) {
      // A failed second subscribe leaves the one that works alone.
      if (!existing && this.followed.get(callId) === followed) this.followed.delete(callId);
      throw err;
    }
    return followed.roster;
  }

  async unsubscribe(callId: string): Promise<void> {
    this.followed.delete(callId);
    await this.send('unsubscribe', { callId }, this.requestTimeoutMs);
  }

  /** The roster of a followed call. */
  roster(callId: string): Roster | undefined {
    return this.followed.get(callId)?.roster;
  }

  /** Server mute; resolves with the finished operation once the media worker confirmed the pause. */
  mute(callId: string, participantId: string, clientContext?: string): Promise<Record<string, unknown>> {
    return this.request('mute', { callId, participantId, ...(clientContext !== undefined ? { clientContext } : {}) });
  }

  unmute(callId: string, participantId: string, clientContext?: string): Promise<Record<string, unknown>> {
    return this.request('unmute', { callId, participantId, ...(clientContext !== undefined ? { clientContext } : {}) });
  }

  muteAll(callId: string, exceptParticipantIds: string[] = [], clientContext?: string): Promise<Record<string, unknown>> {
    return this.request('muteAll', { callId, exceptParticipantIds, ...(clientContext !== undefined ? { clientContext } : {}) });
  }

  /** requestUnmute, lock, unlock, deafen, undeafen, raiseHand or lowerHand. */
  participantAction(
    action: 'requestUnmute' | 'lock' | 'unlock' | 'deafen' | 'undeafen' | 'raiseHand' | 'lowerHand',
    callId: string,
    participantId: string,
    clientContext?: string,
  ): Promise<Record<string, unknown>> {
    return this.request(action, { callId, participantId, ...(clientContext !== undefined ? { clientContext } : {}) });
  }

  close(code = 1000, reason = ''): void {
    this.ws.close(code, reason);
  }

  private send(type: string, fields: { callId: string } & Record<string, unknown>, timeoutMs: number): Promise<ServerFrame> {
    const requestId = `c${this.nextId++}`;
    const request: ClientRequestFields = { ...fields, type, requestId };
    // A closed socket drops what is sent on it without a word: fail now, not at the timeout.
    if (!this.open) return Promise.reject(new Error(`the connection is closed: ${type} not sent`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new MutegateTimeout(`no answer to ${type} within ${timeoutMs % 1000 === 0 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`}`));
      }, timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer });
      try {
        this.ws.send(this.encoding.encode(request));
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(requestId);
        reject(err as Error);
      }
    });
  }

  private onData(data: unknown): void {
    const bytes = typeof data === 'string' ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : (data as Uint8Array);
    let frame: ServerFrame;
    try {
      frame = this.encoding.decode(bytes);
    } catch {
      return; // not a frame of this encoding: nothing to do with it
    }
    this.emit('frame', frame);
    switch (frame.type) {
      case 'snapshot':
        this.applySnapshot(frame);
        if (frame.requestId) this.settle(frame.requestId, frame);
        return;
      case 'delta':
        return this.applyDelta(frame);
      case 'response':
        return this.settle(frame.requestId, frame);
      case 'error': {
        if (!frame.requestId) return;
        const p = this.pending.get(frame.requestId);
        if (!p) return;
        this.pending.delete(frame.requestId);
        clearTimeout(p.timer);
        p.reject(new MutegateError(frame.status, frame.code, frame.innerCode, frame.message));
        return;
      }
      case 'consumer': {
        const { type: _type, ...offer } = frame;
        return this.emit('consumer', offer);
      }
      case 'consumerClosed':
        return this.emit('consumerClosed', frame);
      case 'unmuteRequested':
        return this.emit('unmuteRequested', frame);
      case 'reconnect':
        return this.emit('reconnect', frame);
      case 'unknown':
        return;
    }
  }

  private applySnapshot(frame: Snapshot): void {
    const followed = this.followed.get(frame.callId);
    if (!followed) return;
    const { roster } = followed;
    roster.participants.clear();
    for (const p of frame.participants) roster.participants.set(p.id, p);
    roster.sequence = frame.sequence;
    followed.resyncing = false;
    this.emit('roster', roster, frame);
  }

  /** Asks for the whole roster of a followed call after a gap (see applyDelta). */
  private askResync(callId: string, followed: Followed, gapAt: number): void {
    const { roster } = followed;
    this.send('resync', { callId }, this.requestTimeoutMs).catch((err: unknown) => {
      if (this.followed.get(callId) !== followed) return;
      if (err instanceof MutegateError && err.status === 404) {
        // The call is gone (it ended in the changes that went missing): so is its roster.
        roster.ended = true;
        roster.participants.clear();
        this.followed.delete(callId);
        this.emit('roster', roster, { type: 'delta', callId, sequence: gapAt, change: 'callEnded', participants: [] });
        return;
      }
      if (err instanceof MutegateError && err.status === 429 && this.open) {
        // Whole-roster reads are rate-limited (limits.rosterReadsPerSecond): ask again in a second,
        // not only at the next delta, which a quiet call may not send for a long time.
        setTimeout(() => {
          if (this.followed.get(callId) === followed && followed.resyncing && this.open) this.askResync(callId, followed, gapAt);
        }, RESYNC_RETRY_MS);
        return;
      }
      // No snapshot (timeout, connection trouble): the next delta starts another attempt.
      followed.resyncing = false;
      roster.sequence = -1;
    });
  }

  private applyDelta(frame: Delta): void {
    const followed = this.followed.get(frame.callId);
    if (!followed || followed.resyncing) return;
    const { roster } = followed;
    if (frame.sequence <= roster.sequence) return; // seen already
    if (frame.sequence !== roster.sequence + 1) {
      // A change went missing: what this client holds may be wrong. Ask for the whole roster.
      followed.resyncing = true;
      this.emit('gap', frame.callId, roster.sequence + 1, frame.sequence);
      this.askResync(frame.callId, followed, frame.sequence);
      return;
    }
    roster.sequence = frame.sequence;
    if (frame.change === 'callEnded') {
      roster.ended = true;
      roster.participants.clear();
      this.followed.delete(frame.callId);
    } else {
      for (const p of frame.participants) {
        if (frame.change === 'left') roster.participants.delete(p.id);
        else roster.participants.set(p.id, p);
      }
    }
    this.emit('roster', roster, frame);
  }

  private settle(requestId: string, frame: ServerFrame): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    clearTimeout(p.timer);
    p.resolve(frame);
  }

  private emit<E extends keyof SocketEvents>(event: E, ...args: Parameters<SocketEvents[E]>): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as unknown as (...a: Parameters<SocketEvents[E]>) => void)(...args);
      } catch {
        // A listener that throws does not break the connection or the other listeners.
      }
    }
  }
}
