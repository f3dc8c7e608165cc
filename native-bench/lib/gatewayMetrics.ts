/** Readings from the gateway's own /metrics (Prometheus text), for cross-checks in the report. */

/** Cumulative sum (seconds) and count of `mutegate_roster_fanout_seconds`: the gateway's time to write one roster change to every subscriber of its call. */
export async function scrapeFanoutWrite(baseUrl: string, token: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { sum: value('mutegate_roster_fanout_seconds_sum'), count: value('mutegate_roster_fanout_seconds_count') };
}

/** Mean milliseconds per observation between two readings (NaN if nothing was observed). */
export function meanMsBetween(before: { sum: number; count: number }, after: { sum: number; count: number }): number {
  const n = after.count - before.count;
  return n > 0 ? ((after.sum - before.sum) / n) * 1000 : NaN;
}
