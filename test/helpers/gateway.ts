import { loadConfig } from '../../src/config/loadConfig.js';
import type { Logger } from 'pino';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { appToken, TEST_SECRET } from './tokens.js';

/** A real gateway (real mediasoup workers, real token checks) on a free port of 127.0.0.1. */
export async function startTestGateway(env: Record<string, string> = {}, logger?: Logger): Promise<Gateway> {
  const config = loadConfig({
    MUTEGATE_HTTP_PORT: '0',
    MUTEGATE_LOG_LEVEL: 'warn',
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
