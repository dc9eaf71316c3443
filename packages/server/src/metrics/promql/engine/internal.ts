/**
 * Internal evaluation types and small numeric/label helpers shared by the evaluator modules.
 * Not exported from the package: the public result types live in `value.ts`.
 */
import { type Label, type Labels, METRIC_NAME, sortLabels } from '../../../core/model/labels.js';
import { EngineError } from './errors.js';

/** One sample of an instant vector at one evaluation step. */
export interface StepSample {
  metric: Labels;
  v: number;
  /** Prometheus 3 delayed name removal: the metric name is removed when the query finishes. */
  dropName: boolean;
}

/**
 * A series over the evaluation steps (for instant-vector nodes) or over raw/subquery timestamps
 * (for range sources). Parallel arrays avoid an object per point.
 */
export interface EvalSeries {
  metric: Labels;
  ts: Floats;
  vs: Floats;
  dropName: boolean;
}

/** An {@link EvalSeries} being built point by point. */
export interface SeriesBuilder extends EvalSeries {
  ts: number[];
  vs: number[];
}

/** Numbers of a series: a typed array when filled in one go (selected samples), else an array. */
export type Floats = number[] | Float64Array;

/**
 * Hands out exact-size copies of scratch buffers. Short ones become plain arrays (cheapest to
 * make); longer ones are views into large shared blocks, so a query allocates a few big buffers
 * outside the JS heap instead of one per series, and the garbage collector never copies them.
 */
export class FloatArena {
  private block = new Float64Array(0);
  private used = 0;

  constructor(private readonly blockSize = 1 << 16) {}

  /** A copy of `src[0, n)`. */
  copy(src: Float64Array, n: number): Floats {
    if (n <= 16) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(src[i]!);
      return out;
    }
    if (n > this.block.length - this.used) {
      if (n > this.blockSize >> 3) return src.slice(0, n);
      this.block = new Float64Array(this.blockSize);
      this.used = 0;
    }
    const at = this.used;
    const block = this.block;
    for (let i = 0; i < n; i++) block[at + i] = src[i]!;
    this.used = at + n;
    return block.subarray(at, at + n);
  }
}

/** The value of a node evaluated over all steps. */
export type EvalValue =
  | { readonly type: 'vector'; readonly series: EvalSeries[] }
  | { readonly type: 'matrix'; readonly series: EvalSeries[] }
  | { readonly type: 'scalar'; readonly vs: Float64Array }
  | { readonly type: 'string'; readonly v: string };

/** Throws the error Prometheus raises as a runtime (execution) error. */
export function execError(message: string): never {
  throw new EngineError('execution', message);
}

/** Kahan–Babuška (Neumaier) summation step, as Prometheus' `kahanSumInc`. */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (t === Infinity || t === -Infinity) {
    // Once the sum overflows the compensation is meaningless (Inf - Inf would poison it with NaN).
    return [t, 0];
  }
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/** Go's `math.Pow`, whose special cases differ from `Math.pow` for base ±1 and NaN exponents. */
export function goPow(x: number, y: number): number {
  if (y === 0) return 1;
  if (x === 1) return 1;
  if ((x === -1) && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return Math.pow(x, y);
}

/** The label set without `__name__`. */
export function dropMetricName(labels: Labels): Labels {
  if (!labels.some((l) => l.name === METRIC_NAME)) return labels;
  return labels.filter((l) => l.name !== METRIC_NAME);
}

/** A copy of `labels` with `name` set to `value` (removed when `value` is empty), kept sorted. */
export function setLabel(labels: Labels, name: string, value: string): Labels {
  const out: Label[] = labels.filter((l) => l.name !== name);
  if (value !== '') out.push({ name, value });
  return sortLabels(out);
}

/** Keeps only the named labels. */
export function keepLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => names.has(l.name));
}

/** Removes the named labels. */
export function removeLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => !names.has(l.name));
}

/** A key for a subset of labels (the "signature" of vector matching and grouping). */
export function subsetKey(labels: Labels, names: ReadonlySet<string>, on: boolean): string {
  let key = '';
  for (const l of labels) {
    const listed = names.has(l.name);
    if (on ? listed : !listed && l.name !== METRIC_NAME) key += l.name + '\xff' + l.value + '\xfe';
  }
  return key;
}

/** Natural ("version") string comparison, as Prometheus' `sort_by_label` uses. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d < 0 ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** Go's `%q` of a string, close enough for error messages. */
export function goQuoteString(s: string): string {
  return JSON.stringify(s);
}
