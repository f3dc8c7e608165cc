/**
 * The gateway's event loop and garbage collector over a big-call step's steady window, from its
 * /metrics (prom-client's default Node metrics). A mute that waits for the gateway's loop before
 * Node even emits the request is "outside" in the Server-Timing split; these readings tell that
 * case apart from a slow bench client.
 *
 * prom-client's loop-delay histogram (perf_hooks.monitorEventLoopDelay) is reset at every scrape,
 * so a scrape at the window's start and one at its end give the window's own p99 and max. That
 * histogram records the interval between firings of a timer of PROM_LOOP_RESOLUTION_MS (prom-client's
 * default precision; mutegate does not change it), so the delay is a value minus that. GC
 * pauses come from the cumulative `nodejs_gc_duration_seconds` histogram: the end reading minus
 * the start reading.
 */

/** prom-client's default `eventLoopMonitoringPrecision`, ms. */
export const PROM_LOOP_RESOLUTION_MS = 10;

export interface GatewayLoopReading {
  /** Loop delay since the previous scrape, seconds (NaN: not reported). */
  lagP99: number;
  lagMax: number;
  /** GC pauses so far: all, and those longer than 1 ms and 10 ms; their total seconds. */
  gc: { count: number; over1ms: number; over10ms: number; seconds: number };
}

export interface GatewayLoopWindow {
  /** The gateway's event-loop delay over the window (how late its 10 ms timer fired), ms. */
  lagP99Ms: number;
  lagMaxMs: number;
  /** GC pauses in the window: how many, longer than 1 ms / 10 ms, their total ms. */
  gcPauses: number;
  gcOver1ms: number;
  gcOver10ms: number;
  gcMs: number;
}

function sample(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) out.push(Number(m[3]));
  }
  return out;
}

const total = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Reads the loop and GC metrics from Prometheus text. Pure. */
export function parseGatewayLoop(text: string): GatewayLoopReading {
  const one = (name: string) => sample(text, name)[0] ?? NaN;
  const count = total(sample(text, 'nodejs_gc_duration_seconds_count'));
  return {
    lagP99: one('nodejs_eventloop_lag_p99_seconds'),
    lagMax: one('nodejs_eventloop_lag_max_seconds'),
    gc: {
      count,
      over1ms: count - total(sample(text, 'nodejs_gc_duration_seconds_bucket', { le: '0.001' })),
      over10ms: count - total(sample(text, 'nodejs_gc_duration_seconds_bucket', { le: '0.01' })),
      seconds: total(sample(text, 'nodejs_gc_duration_seconds_sum')),
    },
  };
}

/** The window between two readings (the end one's loop delay is the window's own). Pure. */
export function loopWindow(start: GatewayLoopReading, end: GatewayLoopReading): GatewayLoopWindow {
  return {
    lagP99Ms: Math.max(0, end.lagP99 * 1000 - PROM_LOOP_RESOLUTION_MS),
    lagMaxMs: Math.max(0, end.lagMax * 1000 - PROM_LOOP_RESOLUTION_MS),
    gcPauses: end.gc.count - start.gc.count,
    gcOver1ms: end.gc.over1ms - start.gc.over1ms,
    gcOver10ms: end.gc.over10ms - start.gc.over10ms,
    gcMs: (end.gc.seconds - start.gc.seconds) * 1000,
  };
}

/** One scrape of the gateway's /metrics; null when it cannot be read (the window goes on without it). */
export async function scrapeGatewayLoop(baseUrl: string, token: string): Promise<GatewayLoopReading | null> {
  try {
    const response = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) return null;
    return parseGatewayLoop(await response.text());
  } catch {
    return null;
  }
}
