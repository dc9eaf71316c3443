/** Turns Prometheus matrix results into the column arrays uPlot draws. */
import type { HistogramPoints } from './histogram.js';

/** A series of a matrix result. */
export interface MatrixSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: ReadonlyArray<readonly [number, string]>;
  /** Native-histogram points, when the series has any (Prometheus' `histograms`). */
  readonly histograms?: HistogramPoints;
}

/** uPlot's aligned data: x (seconds) then one column per series, null where a series has no point. */
export type Aligned = [number[], ...Array<Array<number | null>>];

/** Series name in Prometheus' style: `name{a="b", c="d"}`. */
export function seriesName(metric: Readonly<Record<string, string>>): string {
  const name = metric['__name__'] ?? '';
  const labels = Object.entries(metric)
    .filter(([k]) => k !== '__name__')
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  return labels ? `${name}{${labels}}` : name || '{}';
}

/** Legend text: a `{{label}}` template (Grafana's legendFormat) filled in, else {@link seriesName}. */
export function legendName(metric: Readonly<Record<string, string>>, format?: string): string {
  if (!format) return seriesName(metric);
  return format.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_m, k: string) => metric[k] ?? '');
}

/**
 * Aligns series on the union of their timestamps. Points of a range query fall on start + k·step,
 * so the union is small; a Map from timestamp to row keeps this linear in the number of points.
 */
export function align(series: readonly MatrixSeries[]): Aligned {
  const ts = new Set<number>();
  for (const s of series) for (const [t] of s.values) ts.add(t);
  const xs = [...ts].sort((a, b) => a - b);
  const row = new Map<number, number>();
  xs.forEach((t, i) => row.set(t, i));
  const cols = series.map((s) => {
    const col: Array<number | null> = new Array<number | null>(xs.length).fill(null);
    for (const [t, v] of s.values) col[row.get(t)!] = Number(v);
    return col;
  });
  return [xs, ...cols];
}

/** Cumulative sums for a stacked chart (missing points count as 0 but stay null in their own column). */
export function stack(data: Aligned): Aligned {
  const [xs, ...cols] = data;
  const acc = new Array<number>(xs.length).fill(0);
  const out = cols.map((col) =>
    col.map((v, i) => {
      if (v === null) return null;
      acc[i]! += v;
      return acc[i]!;
    }),
  );
  return [xs, ...out];
}
