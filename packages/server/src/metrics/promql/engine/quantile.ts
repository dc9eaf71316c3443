/**
 * Quantiles: the `quantile` aggregation / `quantile_over_time`, and `histogram_quantile` over
 * classic `le` buckets, following Prometheus' `promql/quantile.go`. The plain `quantile` of a list of values is shared with LogQL (core/eval).
 */

/** One classic histogram bucket. */
export interface Bucket {
  upperBound: number;
  count: number;
}

/** The result of {@link bucketQuantile} with the fix-ups that were applied. */
export interface BucketQuantileResult {
  value: number;
  forcedMonotonic: boolean;
  fixedPrecision: boolean;
}

const SMALL_DELTA_TOLERANCE = 1e-12;

function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < 2.2250738585072014e-308) return diff < epsilon * 2.2250738585072014e-308;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

/** `input` sorted by bound (in place) with equal bounds merged into new buckets; undefined without a +Inf bucket. */
function coalesced(input: Bucket[]): Bucket[] | undefined {
  input.sort((a, b) => a.upperBound - b.upperBound);
  if (input.length === 0 || input[input.length - 1]!.upperBound !== Infinity) return undefined;
  const buckets: Bucket[] = [];
  for (const b of input) {
    const last = buckets[buckets.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ upperBound: b.upperBound, count: b.count });
  }
  return buckets;
}

/**
 * Quantile of a classic histogram. Buckets are sorted, equal bounds merged, and counts forced to
 * be monotonic (scrapes are not atomic, so a higher bucket can briefly be lower).
 */
export function bucketQuantile(q: number, input: Bucket[]): BucketQuantileResult {
  const res = (value: number, forcedMonotonic = false, fixedPrecision = false): BucketQuantileResult => ({
    value,
    forcedMonotonic,
    fixedPrecision,
  });
  if (Number.isNaN(q)) return res(NaN);
  if (q < 0) return res(-Infinity);
  if (q > 1) return res(Infinity);
  const buckets = coalesced(input);
  if (buckets === undefined) return res(NaN);
  let forcedMonotonic = false;
  let fixedPrecision = false;
  let prev = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    const curr = buckets[i]!.count;
    if (curr === prev) continue;
    if (almostEqual(prev, curr, SMALL_DELTA_TOLERANCE)) {
      buckets[i]!.count = prev;
      fixedPrecision = true;
      continue;
    }
    if (curr < prev) {
      buckets[i]!.count = prev;
      forcedMonotonic = true;
      continue;
    }
    prev = curr;
  }
  if (buckets.length < 2) return res(NaN, forcedMonotonic, fixedPrecision);
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0 || Number.isNaN(observations)) return res(NaN, forcedMonotonic, fixedPrecision);
  let rank = q * observations;
  // First bucket (excluding +Inf) whose cumulative count reaches the rank.
  let b = 0;
  while (b < buckets.length - 1 && !(buckets[b]!.count >= rank)) b++;
  if (b === buckets.length - 1) return res(buckets[buckets.length - 2]!.upperBound, forcedMonotonic, fixedPrecision);
  if (b === 0 && buckets[0]!.upperBound <= 0) return res(buckets[0]!.upperBound, forcedMonotonic, fixedPrecision);
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return res(bucketStart + (bucketEnd - bucketStart) * (rank / count), forcedMonotonic, fixedPrecision);
}

/**
 * Estimated fraction of observations between `lower` and `upper` in a classic histogram,
 * interpolating linearly inside buckets (the first bucket starts at 0 when its bound is positive).
 */
export function bucketFraction(lower: number, upper: number, input: Bucket[]): number {
  const buckets = coalesced(input);
  if (buckets === undefined) return NaN;
  const count = buckets[buckets.length - 1]!.count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  const ranks = fractionRanks(lower, upper, classicSpans(buckets));
  const lowerRank = ranks.lower === undefined || ranks.lower > count ? count : ranks.lower;
  const upperRank = ranks.upper === undefined || ranks.upper > count ? count : ranks.upper;
  return (upperRank - lowerRank) / count;
}

/** The coalesced classic buckets as spans; the first starts at 0 when its bound is positive. */
function* classicSpans(buckets: readonly Bucket[]): Generator<FractionSpan> {
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    const below = i > 0 ? buckets[i - 1]!.count : 0;
    let lowerBound = i > 0 ? buckets[i - 1]!.upperBound : -Infinity;
    if (i === 0 && b.upperBound > 0) lowerBound = 0;
    const upperBound = b.upperBound;
    // A bucket of infinite width cannot be interpolated: its observations count as below `v`.
    const interpolate = (v: number): number =>
      lowerBound === -Infinity ? b.count : below + ((b.count - below) * (v - lowerBound)) / (upperBound - lowerBound);
    yield { lower: lowerBound, upper: upperBound, below, interpolate };
  }
}

/** One bucket as `histogram_fraction` walks it: its bounds, the observations below it, and how many lie below a value inside it. */
export interface FractionSpan {
  lower: number;
  upper: number;
  below: number;
  interpolate(v: number): number;
}

/**
 * The observations below `lower` and below `upper`, walking buckets in ascending order: a bound
 * at or under a bucket's lower edge takes the count below that bucket, a bound inside a bucket is
 * interpolated. Undefined where a bound lies above every bucket. Shared by classic and native
 * `histogram_fraction`, which differ only in how a bucket interpolates.
 */
export function fractionRanks(lower: number, upper: number, spans: Iterable<FractionSpan>): { lower: number | undefined; upper: number | undefined } {
  let lowerRank: number | undefined;
  let upperRank: number | undefined;
  for (const s of spans) {
    if (lowerRank === undefined && s.lower >= lower) lowerRank = s.below;
    if (upperRank === undefined && s.lower >= upper) upperRank = s.below;
    if (lowerRank !== undefined && upperRank !== undefined) break;
    if (lowerRank === undefined && s.lower < lower && s.upper > lower) lowerRank = s.interpolate(lower);
    if (upperRank === undefined && s.lower < upper && s.upper > upper) upperRank = s.interpolate(upper);
    if (lowerRank !== undefined && upperRank !== undefined) break;
  }
  return { lower: lowerRank, upper: upperRank };
}
