/**
 * Internal evaluation types and helpers of the PromQL evaluator modules. The series shapes and the
 * numeric and label helpers PromQL shares with LogQL live in core/eval.
 * Not exported from the package: the public result types live in `value.ts`.
 */
import type { EvalSeries, Floats } from '../../../core/eval/series.js';
import { type Labels, METRIC_NAME } from '../../../core/model/labels.js';
import { EngineError } from './errors.js';

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
      // Made at its size: growing by push leaves room for 17 (about 190 bytes for 4 numbers
      // instead of 90), and these arrays live as long as the query, so every scavenge copies them.
      const out = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = src[i]!;
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

/** The label set without `__name__`. */
export function dropMetricName(labels: Labels): Labels {
  if (!labels.some((l) => l.name === METRIC_NAME)) return labels;
  return labels.filter((l) => l.name !== METRIC_NAME);
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
