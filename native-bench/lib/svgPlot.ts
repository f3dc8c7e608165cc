import { cdf } from './stats.js';

export interface Series {
  label: string;
  samples: number[];
  color: string;
  dashed?: boolean;
}

export interface Panel {
  title: string;
  series: Series[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Rounded tick steps for an axis from 0 to max. */
function ticks(max: number): number[] {
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let t = 0; t <= max + 1e-9; t += step) out.push(Number(t.toPrecision(6)));
  return out;
}

/**
 * Latency CDF panels side by side, one per N, ours vs raw: x = milliseconds, y = fraction of
 * operations at or below. Self-contained SVG, readable without any tool.
 */
export function cdfPlotSvg(title: string, xLabel: string, panels: Panel[]): string {
  const pw = 300;
  const ph = 220;
  const m = { l: 48, r: 12, t: 30, b: 40 };
  const width = panels.length * (pw + m.l + m.r) + 20;
  const maxSeries = Math.max(0, ...panels.map((p) => p.series.length));
  const height = 30 + m.t + ph + 50 + maxSeries * 14 + 10;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`);
  panels.forEach((panel, i) => {
    const ox = 10 + i * (pw + m.l + m.r) + m.l;
    const oy = 30 + m.t;
    const all = panel.series.flatMap((s) => s.samples.filter(Number.isFinite));
    const sorted = [...all].sort((a, b) => a - b);
    // Clip the x axis at the 99.5th percentile so one outlier does not flatten every curve.
    const xmax = Math.max(0.1, sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.995))] as number) * 1.1 : 1);
    const xs = (v: number) => ox + (Math.min(v, xmax) / xmax) * pw;
    const ys = (f: number) => oy + ph - f * ph;
    parts.push(`<text x="${ox}" y="${oy - 8}" font-weight="bold">${esc(panel.title)}</text>`);
    parts.push(`<rect x="${ox}" y="${oy}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    for (const t of ticks(xmax)) {
      parts.push(`<line x1="${xs(t)}" y1="${oy}" x2="${xs(t)}" y2="${oy + ph}" stroke="#eee"/>`);
      parts.push(`<text x="${xs(t)}" y="${oy + ph + 14}" text-anchor="middle">${t}</text>`);
    }
    for (const f of [0, 0.25, 0.5, 0.75, 0.9, 1]) {
      parts.push(`<line x1="${ox}" y1="${ys(f)}" x2="${ox + pw}" y2="${ys(f)}" stroke="#eee"/>`);
      parts.push(`<text x="${ox - 4}" y="${ys(f) + 4}" text-anchor="end">${f}</text>`);
    }
    parts.push(`<text x="${ox + pw / 2}" y="${oy + ph + 30}" text-anchor="middle">${esc(xLabel)}</text>`);
    for (const s of panel.series) {
      const points = cdf(s.samples);
      if (points.length === 0) continue;
      // A step function: each sample raises the curve.
      let d = `M ${xs(points[0]![0]).toFixed(1)} ${ys(0).toFixed(1)}`;
      let prevF = 0;
      for (const [v, f] of points) {
        d += ` L ${xs(v).toFixed(1)} ${ys(prevF).toFixed(1)} L ${xs(v).toFixed(1)} ${ys(f).toFixed(1)}`;
        prevF = f;
      }
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
    panel.series.forEach((s, k) => {
      const ly = oy + ph + 46 + k * 14;
      parts.push(`<line x1="${ox}" y1="${ly - 4}" x2="${ox + 24}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
      parts.push(`<text x="${ox + 30}" y="${ly}">${esc(s.label)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}
