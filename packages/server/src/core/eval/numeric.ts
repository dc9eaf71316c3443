/**
 * Numeric kernels over a slice `[lo, hi)` of values, with Prometheus' precision rules
 * (Kahan–Babuška summation, Welford variance, NaN-aware extremes). Range functions use them over
 * a window of samples, aggregations over the samples of a group at one step.
 */
import type { Floats } from './series.js';

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
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return Math.pow(x, y);
}

/** Kahan–Babuška sum of `vs[lo, hi)`; {@link kahanSumInc} inlined, as this runs per window. */
export function kahanSum(vs: Floats, lo: number, hi: number): number {
  let sum = 0;
  let c = 0;
  for (let i = lo; i < hi; i++) {
    const inc = vs[i]!;
    const t = sum + inc;
    if (t === Infinity || t === -Infinity) c = 0;
    else if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
    else c += inc - t + sum;
    sum = t;
  }
  return sum + c;
}

/** Mean of `vs[lo, hi)` as Prometheus computes it, {@link kahanSumInc} inlined. */
export function kahanMean(vs: Floats, lo: number, hi: number): number {
  let sum = 0,
    c = 0,
    mean = 0,
    count = 0;
  let incremental = false;
  for (let i = lo; i < hi; i++) {
    const f = vs[i]!;
    count++;
    if (!incremental) {
      const ns = sum + f;
      let nc = c;
      if (ns === Infinity || ns === -Infinity) nc = 0;
      else if (Math.abs(sum) >= Math.abs(f)) nc += sum - ns + f;
      else nc += f - ns + sum;
      if (count === 1 || Number.isFinite(ns) || Number.isNaN(ns)) {
        sum = ns;
        c = nc;
        continue;
      }
      // The sum overflowed: switch to an incremental mean, which stays finite.
      incremental = true;
      mean = sum / (count - 1);
      c = c / (count - 1);
    }
    const q = (count - 1) / count;
    const inc = f / count;
    const s0 = q * mean;
    let c0 = q * c;
    const t = s0 + inc;
    if (t === Infinity || t === -Infinity) c0 = 0;
    else if (Math.abs(s0) >= Math.abs(inc)) c0 += s0 - t + inc;
    else c0 += inc - t + s0;
    mean = t;
    c = c0;
  }
  if (incremental) return mean + c;
  return sum / count + c / count;
}

/** Population variance with Welford's method and Kahan-compensated running sums. */
export function variance(vs: ArrayLike<number>, lo: number, hi: number): number {
  let count = 0,
    mean = 0,
    cMean = 0,
    aux = 0,
    cAux = 0;
  for (let i = lo; i < hi; i++) {
    const f = vs[i]!;
    count++;
    const delta = f - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (f - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

/** Smallest or largest of `vs[lo, hi)`; a NaN is replaced by any number that follows it. */
export function extremum(vs: ArrayLike<number>, lo: number, hi: number, max: boolean): number {
  let m = vs[lo]!;
  for (let i = lo + 1; i < hi; i++) {
    const cur = vs[i]!;
    if (max ? cur > m || Number.isNaN(m) : cur < m || Number.isNaN(m)) m = cur;
  }
  return m;
}

/** φ-quantile of `values` (sorted in place) with linear interpolation; Prometheus' `quantile`. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  // NaN sorts first, as Go's sort.Float64s does: it acts as the smallest value.
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}
