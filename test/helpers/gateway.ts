import { loadConfig } from '../../src/config/loadConfig.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Logger } from 'pino';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { appToken, TEST_SECRET } from './tokens.js';

/** A real gateway (real mediasoup workers, real token checks) on a free port of 127.0.0.1. */
export async function startTestGateway(env: Record<string, string> = {}, logger?: Logger): Promise<Gateway> {
  const config = loadConfig({
    MUTEGATE_HTTP_PORT: '0',
    // Tests provoke failures on purpose (refused joins, unconfirmed mutes, killed workers, calls
    // that lose their media): their warnings and errors would drown the test report, and a test
    // that fails says why in its assertion. MUTEGATE_TEST_LOG_LEVEL=warn shows them when debugging.
    MUTEGATE_LOG_LEVEL: process.env.MUTEGATE_TEST_LOG_LEVEL ?? 'fatal',
    MUTEGATE_MEDIA_NUM_WORKERS: '1',
    MUTEGATE_AUTH_HS256_SECRET: TEST_SECRET,
    // These gateways test media enforcement, so the application token may unmute anyone; the
    // privacy default (off) is tested in authorization.test.ts.
    MUTEGATE_AUTH_ALLOW_APP_REMOTE_UNMUTE: 'true',
    ...env,
  });
  return startGateway(config, logger);
}

// `any`: tests read arbitrary JSON response bodies and assert on them field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Minimal JSON client for the gateway's HTTP API. It sends `token` (default: an application
 * token) unless the request sets its own Authorization header; `null` sends none.
 */
export function apiClient(baseUrl: string, token: string | null | Promise<string> = appToken()) {
  async function request(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<ApiResponse> {
    const headers = new Headers(init.headers);
    const bearer = await token;
    if (bearer && !headers.has('authorization')) headers.set('authorization', `Bearer ${bearer}`);
    let payload: string | undefined;
    if (typeof body === 'string') {
      payload = body;
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers.set('content-type', 'application/json');
    }
    const res = await fetch(baseUrl + path, { ...init, method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (e.g. /metrics): keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }
  return {
    get: (path: string) => request('GET', path),
    post: (path: string, body?: unknown, init?: RequestInit) => request('POST', path, body, init),
    patch: (path: string, body?: unknown) => request('PATCH', path, body),
    delete: (path: string) => request('DELETE', path),
    request,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns true or the time is up. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** The value of one series in a Prometheus text exposition (NaN when absent). */
export function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

/**
 * Settings under which one call spreads over two workers early: a worker takes newcomers only up
 * to 4 consumers (10 % of a 40-consumer budget), then the call gets a router on the other worker;
 * the whole budget leaves room for the consumers of newcomers placed there. Packet rate never limits.
 */
export const SPREAD_OVER_TWO_WORKERS: Record<string, string> = {
  MUTEGATE_MEDIA_NUM_WORKERS: '2',
  MUTEGATE_MEDIA_WORKER_BUDGET_CONSUMERS: '40',
  MUTEGATE_MEDIA_WORKER_BUDGET_PACKETS_PER_SECOND: '1000000',
  MUTEGATE_MEDIA_WORKER_BUDGET_PLACEMENT_SHARE: '0.1',
};

/** A gateway for the tests of one `describe`, and the RTP peers they open (closed after them). */
export interface GatewayFixture {
  readonly gateway: Gateway;
  readonly api: ReturnType<typeof apiClient>;
  readonly peers: { close(): void }[];
}

/**
 * Starts a gateway with `env` (and `logger`) before the enclosing describe's tests and closes it
 * (and every peer in `peers`) after them: the set-up block each such file would otherwise write
 * again. Call it first in the describe: the hooks the file registers after it run after the
 * gateway started, and their afterAll before it closes.
 */
export function useGateway(env: Record<string, string> = {}, logger?: Logger): GatewayFixture {
  let gateway: Gateway | undefined;
  let api: ReturnType<typeof apiClient> | undefined;
  const peers: { close(): void }[] = [];
  beforeAll(async () => {
    gateway = await startTestGateway(env, logger);
    api = apiClient(gateway.url);
  }, 30_000);
  afterAll(async () => {
    for (const peer of peers.splice(0)) peer.close();
    await gateway?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the gateway fixture is used before its beforeAll ran');
    return value;
  };
  return {
    get gateway() {
      return started(gateway);
    },
    get api() {
      return started(api);
    },
    peers,
  };
}

/** A gateway fixture whose one worker a test can freeze (SIGSTOP) and thaw (SIGCONT). */
export interface FreezableWorkerFixture extends GatewayFixture {
  /** The worker's pid (one worker). */
  readonly workerPid: number;
  /** Whether the worker is frozen now. */
  readonly frozen: boolean;
  freeze(): void;
  thaw(): void;
}

/**
 * useGateway with one worker (and `env`), whose process a test freezes to play a stalled or
 * saturated worker. A test that fails while it is frozen does not leave it frozen for the next
 * one, nor for the gateway's close.
 */
export function useFreezableWorker(env: Record<string, string> = {}): FreezableWorkerFixture {
  const fx = useGateway({ ...env, MUTEGATE_MEDIA_NUM_WORKERS: '1' });
  /** The pid frozen now, if any (the gateway may kill and replace a frozen worker meanwhile). */
  let frozenPid: number | null = null;
  const workerPid = (): number => {
    const pid = fx.gateway.pool.pids[0];
    if (pid === undefined) throw new Error('the gateway has no live worker');
    return pid;
  };
  const thaw = (): void => {
    if (frozenPid === null) return;
    try {
      process.kill(frozenPid, 'SIGCONT');
    } catch {
      // The gateway killed it (an unconfirmed mute): nothing to thaw.
    }
    frozenPid = null;
  };
  afterEach(thaw);
  afterAll(thaw);
  return {
    get gateway() {
      return fx.gateway;
    },
    get api() {
      return fx.api;
    },
    peers: fx.peers,
    get workerPid() {
      return workerPid();
    },
    get frozen() {
      return frozenPid !== null;
    },
    freeze() {
      frozenPid = workerPid();
      process.kill(frozenPid, 'SIGSTOP');
    },
    thaw,
  };
}

/**
 * A reply as one string to assert on: the status, and for an error its inner code
 * ("200", "503 shuttingDown"). Where a race allows more than one outcome, a test lists the
 * allowed ones and always asserts, instead of checking the error's code only when it happened.
 */
export function outcomeOf(res: { status: number; body: unknown }): string {
  const code = (res.body as { error?: { innerError?: { code?: unknown } } } | undefined)?.error?.innerError?.code;
  return res.status >= 400 && typeof code === 'string' ? `${res.status} ${code}` : String(res.status);
}
