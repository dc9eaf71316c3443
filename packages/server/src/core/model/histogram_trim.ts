/**
 * PromQL's trim operators on native histograms: `h </ x` keeps the observations below `x`,
 * `h >/ x` those above it. Buckets wholly on the kept side stay; a bucket the cutoff falls into
 * keeps the share of its count on the kept side (interpolated in log space in exponential buckets,
 * linearly in the zero bucket and in custom buckets); the rest are emptied. The sum is estimated
 * again from what is kept (each bucket's observations at its middle: geometric for exponential
 * buckets, arithmetic otherwise); a cutoff that trims nothing leaves the histogram as it is.
 */
import { FloatHistogram } from './histogram.js';

interface Part {
  side: 'pos' | 'neg' | 'zero';
  idx: number;
  lower: number;
  upper: number;
  count: number;
  /** Exponential bucket (log-space interpolation, geometric middle). */
  exp: boolean;
  /** A custom first bucket, open to −∞, taken to start at zero (its upper bound is positive). */
  fromZero?: boolean;
}

/** The buckets with the bounds trimming uses: a zero bucket (and a custom first bucket) next to buckets on one side only starts at zero. */
function parts(h: FloatHistogram): Part[] {
  const out: Part[] = [];
  const { pos, neg } = h.bucketMaps();
  const custom = h.usesCustomBuckets();
  for (const b of h.negativeBucketList()) out.push({ side: 'neg', idx: 0, lower: b.lower, upper: b.upper, count: b.count, exp: true });
  // negativeBucketList yields most negative first; attach the indexes in the same order.
  const negIdx = [...neg.keys()].sort((a, b) => b - a);
  out.forEach((p, i) => (p.idx = negIdx[i]!));
  if (!custom && (h.zeroThreshold !== 0 || h.zeroCount !== 0)) {
    let lower = -h.zeroThreshold;
    let upper = h.zeroThreshold;
    if (h.hasPositive() && !h.hasNegative()) lower = 0;
    else if (h.hasNegative() && !h.hasPositive()) upper = 0;
    out.push({ side: 'zero', idx: 0, lower, upper, count: h.zeroCount, exp: false });
  }
  const posIdx = [...pos.keys()].sort((a, b) => a - b);
  let k = 0;
  for (const b of h.positiveBucketList()) {
    const fromZero = custom && b.lower === -Infinity && b.upper > 0 && b.upper !== Infinity;
    out.push({ side: 'pos', idx: posIdx[k++]!, lower: fromZero ? 0 : b.lower, upper: b.upper, count: b.count, exp: !custom, fromZero });
  }
  return out;
}

/** The share of a bucket's observations below `x` (lower < x < upper). */
function shareBelow(p: Part, x: number): number {
  if (!p.exp) return (x - p.lower) / (p.upper - p.lower);
  if (p.lower >= 0) return (Math.log2(x) - Math.log2(p.lower)) / (Math.log2(p.upper) - Math.log2(p.lower));
  // A negative bucket [lower, upper): the observations below x are the ones further from zero.
  const far = Math.abs(p.lower);
  const near = Math.abs(p.upper);
  return (Math.log2(far) - Math.log2(Math.abs(x))) / (Math.log2(far) - Math.log2(near));
}

/** Where a bucket's kept observations are taken to lie, for the sum. */
function middle(p: Part, lower: number, upper: number): number {
  if (lower === -Infinity) return upper;
  if (upper === Infinity) return lower;
  if (!p.exp) return (lower + upper) / 2;
  const g = Math.sqrt(Math.abs(lower) * Math.abs(upper));
  return upper <= 0 ? -g : g;
}

/** `h </ x` (`keepBelow`) or `h >/ x`. */
export function trimHistogram(h: FloatHistogram, x: number, keepBelow: boolean): FloatHistogram {
  const ps = parts(h);
  let changed = false;
  let count = 0;
  let sum = 0;
  let zero = 0;
  const pos = new Map<number, number>();
  const neg = new Map<number, number>();
  for (const p of ps) {
    let kept: number;
    let lo = p.lower;
    let hi = p.upper;
    const infinite = p.lower === -Infinity || p.upper === Infinity;
    if (x === (keepBelow ? Infinity : -Infinity)) kept = p.count;
    else if (x === (keepBelow ? -Infinity : Infinity)) kept = 0;
    else if (p.fromZero === true && !keepBelow && x < 0)
      kept = 0; // Prometheus drops it here: it is open to −∞
    else if (infinite) {
      // A bucket of infinite width is not interpolated: kept whole on the side of its finite bound
      // (its observations taken to lie at that bound or at the cutoff, whichever is nearer the
      // kept side), dropped whole on the side of its infinite one.
      const finiteKept = keepBelow ? p.lower === -Infinity && p.upper !== Infinity : p.upper === Infinity && p.lower !== -Infinity;
      kept = finiteKept ? p.count : 0;
      if (keepBelow) hi = Math.min(p.upper, x);
      else lo = Math.max(p.lower, x);
    } else if (keepBelow ? x >= p.upper : x <= p.lower) kept = p.count;
    else if (keepBelow ? x <= p.lower : x >= p.upper) kept = 0;
    else {
      const below = shareBelow(p, x);
      kept = p.count * (keepBelow ? below : 1 - below);
      if (keepBelow) hi = x;
      else lo = x;
    }
    if (kept !== p.count) changed = true;
    if (kept === 0) continue;
    count += kept;
    sum += kept * middle(p, lo, hi);
    if (p.side === 'zero') zero = kept;
    else (p.side === 'pos' ? pos : neg).set(p.idx, kept);
  }
  if (!changed) return h;
  return h.withBuckets(pos, neg, { count, sum, zeroCount: zero });
}
