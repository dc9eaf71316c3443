/**
 * Native histograms of a range query as heatmap cells: one column per timestamp, one cell per bucket
 * (its lower and upper bound), coloured by observations per second in the bucket, or by the value
 * itself when the query already is a rate. Also the PromQL of the p50/p90/p99 shown with it.
 */

/** A native histogram in Prometheus' query JSON: buckets as [boundaryRule, lower, upper, count]. */
export interface ApiHistogram {
  readonly count: string;
  readonly sum: string;
  readonly buckets?: ReadonlyArray<readonly [number, string, string, string]>;
}

/** A matrix series' histogram points, `[unix seconds, histogram]`. */
export type HistogramPoints = ReadonlyArray<readonly [number, ApiHistogram]>;

/** One drawn cell: the bucket `(lower, upper]` between `t0` and `t1` (seconds) with `value`. */
export interface HeatCell {
  readonly t0: number;
  readonly t1: number;
  readonly lower: number;
  readonly upper: number;
  readonly value: number;
}

/** The cells of a heatmap and what they span. */
export interface Heatmap {
  readonly cells: HeatCell[];
  /** Smallest positive bound and largest bound: the y range on a log scale. */
  readonly yMin: number;
  readonly yMax: number;
  readonly maxValue: number;
  /** Observations in buckets at or below zero, which a log axis cannot show. */
  readonly belowZero: number;
  /** What a cell's value is: `per second` (increase / step) or `value` (the query's own). */
  readonly measure: 'per second' | 'value';
}

/** Functions whose result is a rate or window aggregate already: their buckets are not differenced. */
const ALREADY_RATED = /\b(rate|irate|increase|delta|idelta|deriv|[a-z]+_over_time)\s*\(/;

/** Whether the expression's histograms are counters still (their increase is what to draw). */
export function isCumulative(expr: string): boolean {
  return !ALREADY_RATED.test(expr);
}

const SELECTOR = /^\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{[^{}]*\})?\s*$/;

/** The quantile queries for `expr`: a line over time (window `windowSec`), and one figure for the whole range. */
export function quantileQueries(
  expr: string,
  rangeSec: number,
  stepSec: number,
  windowSec: number,
): { line: (q: number) => string; total: (q: number) => string; totalOver: 'range' | 'end' } {
  const e = expr.trim();
  if (!isCumulative(e)) return { line: (q) => `histogram_quantile(${q}, sum(${e}))`, total: (q) => `histogram_quantile(${q}, sum(${e}))`, totalOver: 'end' };
  // A selector's counters take rate() directly; another expression (sum of them) goes through a subquery.
  const over = (w: number): string => (SELECTOR.test(e) ? `${e}[${Math.round(w)}s]` : `(${e})[${Math.round(w)}s:${Math.max(1, Math.round(stepSec))}s]`);
  return {
    line: (q) => `histogram_quantile(${q}, sum(rate(${over(windowSec)})))`,
    total: (q) => `histogram_quantile(${q}, sum(increase(${over(rangeSec)})))`,
    totalOver: 'range',
  };
}

/** Bucket counts of one histogram, by `lower upper`. */
function bucketsOf(h: ApiHistogram): Map<string, { lower: number; upper: number; count: number }> {
  const out = new Map<string, { lower: number; upper: number; count: number }>();
  for (const [, lo, hi, c] of h.buckets ?? []) out.set(`${lo} ${hi}`, { lower: Number(lo), upper: Number(hi), count: Number(c) });
  return out;
}

/**
 * The heatmap of several series' histograms, summed bucket by bucket at each timestamp. Cumulative
 * ones are differenced: a cell is the increase since the previous timestamp per second (a drop in
 * the count is a counter reset, after which the counts themselves are the increase).
 */
export function heatmapOf(series: readonly HistogramPoints[], cumulative: boolean): Heatmap {
  const byTime = new Map<number, Map<string, { lower: number; upper: number; count: number }>>();
  for (const points of series) {
    let prev: ApiHistogram | undefined;
    let prevT = 0;
    for (const [t, h] of points) {
      let col = byTime.get(t);
      if (!col) byTime.set(t, (col = new Map()));
      const now = bucketsOf(h);
      const before = prev !== undefined ? bucketsOf(prev) : undefined;
      const reset = prev !== undefined && Number(h.count) < Number(prev.count);
      const dt = t - prevT;
      if (cumulative && (prev === undefined || dt <= 0)) {
        prev = h;
        prevT = t;
        continue;
      }
      for (const [key, b] of now) {
        let v = b.count;
        if (cumulative) v = (reset ? b.count : Math.max(0, b.count - (before?.get(key)?.count ?? 0))) / dt;
        const cell = col.get(key);
        if (cell) cell.count += v;
        else col.set(key, { ...b, count: v });
      }
      prev = h;
      prevT = t;
    }
  }
  const ts = [...byTime.keys()].sort((a, b) => a - b);
  const cells: HeatCell[] = [];
  let yMin = Infinity;
  let yMax = -Infinity;
  let maxValue = 0;
  let belowZero = 0;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    // A column covers the interval its value was measured over: from the previous timestamp to its own.
    const width = i > 0 ? t - ts[i - 1]! : ts.length > 1 ? ts[1]! - ts[0]! : 60;
    for (const b of byTime.get(t)!.values()) {
      if (b.count <= 0) continue;
      if (b.upper <= 0) {
        belowZero += b.count;
        continue;
      }
      if (b.lower > 0) yMin = Math.min(yMin, b.lower);
      yMin = Math.min(yMin, b.upper);
      yMax = Math.max(yMax, b.upper);
      maxValue = Math.max(maxValue, b.count);
      cells.push({ t0: t - width, t1: t, lower: b.lower, upper: b.upper, value: b.count });
    }
  }
  // The zero bucket (lower bound 0 or below) reaches down to the bottom of the axis.
  if (yMin === Infinity) yMin = 1e-3;
  if (yMax === -Infinity) yMax = yMin * 10;
  return { cells, yMin: nice(yMin, 'down'), yMax: nice(yMax, 'up'), maxValue, belowZero, measure: cumulative ? 'per second' : 'value' };
}

/** The nearest round value (1, 1.5, 2, 3, 5 or 7 times a power of ten) below (or above) `v`: axis ends that read well. */
export function nice(v: number, dir: 'down' | 'up'): number {
  const p = 10 ** Math.floor(Math.log10(v));
  const steps = [1, 1.5, 2, 3, 5, 7, 10];
  // A relative tolerance, so 0.2 (not quite 2 × 0.1 in binary) counts as a round value.
  if (dir === 'down') return p * steps.filter((s) => s * p <= v * (1 + 1e-9)).pop()!;
  return p * steps.find((s) => s * p >= v * (1 - 1e-9))!;
}

/** The cell under a point (time in seconds, value on the y axis), if any; cells are in time order, so only one column is searched. */
export function cellAt(map: Heatmap, t: number, y: number): HeatCell | undefined {
  const cells = map.cells;
  // The first cell whose column ends at or after t.
  let lo = 0;
  let hi = cells.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cells[mid]!.t1 < t) lo = mid + 1;
    else hi = mid;
  }
  let best: HeatCell | undefined;
  for (let i = lo; i < cells.length && cells[i]!.t0 < t; i++) {
    const c = cells[i]!;
    if (t <= c.t0 || t > c.t1) continue;
    const lower = c.lower > 0 ? c.lower : 0;
    if (y > lower && y <= c.upper && (!best || c.upper - lower < best.upper - Math.max(0, best.lower))) best = c;
  }
  return best;
}

/** Plasma-like stops, dark to bright: readable on the light and the dark theme. */
const STOPS: ReadonlyArray<readonly [number, number, number]> = [
  [13, 8, 135],
  [126, 3, 168],
  [204, 71, 120],
  [248, 149, 64],
  [240, 249, 33],
];

/** The colour of `value` on a scale up to `max`: square-root spaced, so a few busy buckets do not wash out the rest. */
export function heatColor(value: number, max: number): string {
  const x = max > 0 ? Math.sqrt(Math.min(1, Math.max(0, value / max))) : 0;
  const pos = x * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  const mix = (k: 0 | 1 | 2): number => Math.round(a[k] + (b[k] - a[k]) * f);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}
