/**
 * The resolution limits a scrape job puts on native histograms, as Prometheus applies them before
 * appending: `native_histogram_min_bucket_factor` caps the schema (buckets at least that factor
 * wide), and `native_histogram_bucket_limit` halves the resolution until the histogram has at
 * most that many buckets. A histogram that cannot be brought under the limit (custom buckets, or
 * schema −4 reached) fails the scrape, as in Prometheus.
 */
import { MAX_SCHEMA, MIN_SCHEMA, type FloatHistogram } from '../../core/model/histogram.js';

/** The limits of one job; `maxSchema` 8 and `bucketLimit` 0 change nothing. */
export interface HistogramLimits {
  readonly bucketLimit: number;
  readonly maxSchema: number;
}

/**
 * The largest schema whose buckets grow by at least `factor` from one to the next, as Prometheus
 * picks it: a factor of 1 or less (unset) allows every schema.
 */
export function schemaForFactor(factor: number): number {
  const f = factor <= 1 ? 1.00271 : factor;
  const schema = Math.max(MIN_SCHEMA, Math.min(MAX_SCHEMA, Math.floor(-Math.log2(Math.log2(f)))));
  // A factor of 2 gives −0, which would print and compare as a schema of its own.
  return schema === 0 ? 0 : schema;
}

/** A histogram that exceeds the bucket limit at every resolution. */
export class BucketLimitError extends Error {
  constructor() {
    super('histogram bucket limit exceeded');
  }
}

const bucketCount = (h: FloatHistogram): number => h.positiveBuckets.length + h.negativeBuckets.length;

/** `h` within `limits`: its resolution reduced as far as needed. Throws {@link BucketLimitError}. */
export function fitHistogram(h: FloatHistogram, limits: HistogramLimits): FloatHistogram {
  let out = h;
  if (!out.usesCustomBuckets() && out.schema > limits.maxSchema) out = out.reduceResolution(limits.maxSchema);
  if (limits.bucketLimit <= 0) return out;
  while (bucketCount(out) > limits.bucketLimit) {
    if (out.usesCustomBuckets() || out.schema <= MIN_SCHEMA) throw new BucketLimitError();
    out = out.reduceResolution(out.schema - 1);
  }
  return out;
}
