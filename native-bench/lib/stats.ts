/** Order statistics for latency samples. */

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The q-quantile (0..1) by linear interpolation between closest ranks; NaN for no samples. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  if (q <= 0) return sorted[0] as number;
  if (q >= 1) return sorted[sorted.length - 1] as number;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const count = sorted.length;
  return {
    count,
    min: count ? (sorted[0] as number) : NaN,
    mean: count ? sorted.reduce((s, x) => s + x, 0) / count : NaN,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    max: count ? (sorted[count - 1] as number) : NaN,
  };
}

/** Points of the empirical CDF: (value, fraction of samples ≤ value). */
export function cdf(samples: readonly number[]): [number, number][] {
  const sorted = samples.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return sorted.map((x, i) => [x, (i + 1) / sorted.length]);
}

/** ours/raw, or NaN when either side is missing or raw is zero. */
export function ratio(ours: number, raw: number): number {
  return Number.isFinite(ours) && Number.isFinite(raw) && raw !== 0 ? ours / raw : NaN;
}
