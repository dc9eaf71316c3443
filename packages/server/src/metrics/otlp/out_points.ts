/**
 * The translation's output points (./translate.ts): the samples of one data point, as the ingestor
 * (./ingest.ts) appends them, and the pool they are reused from.
 */
import type { FloatHistogram } from '../../core/model/histogram.js';
import type { ExemplarInput } from '../exemplars/storage.js';
import type { SeriesEntry } from './attr_cache.js';

/** One output sample; `delta` when its value is an increment still to be added to the series' total. */
export interface OutSample {
  /** The series: its labels, and the store's reference once known. */
  series: SeriesEntry;
  t: number;
  v: number;
  /** A native histogram sample (`v` is then NaN), else undefined. */
  h: FloatHistogram | undefined;
  delta: boolean;
}

/**
 * The samples of one data point, stored or refused together in the partial_success count. The
 * point is its own first sample (most points have only one: no array and no second object are
 * made for them); the others (histogram buckets, quantiles) follow in `more`.
 */
export interface OutPoint extends OutSample {
  more: OutSample[] | undefined;
  exemplars: ExemplarInput[];
  /** A description for refusal messages. */
  what: string;
}

/** Shared by the points without exemplars (nearly all); never pushed to. */
export const NO_EXEMPLARS: ExemplarInput[] = [];
/** The series of a point before its first sample is added. */
export const NO_SERIES: SeriesEntry = { labels: [], ref: 0, deltaKey: undefined };

function newOutPoint(t: number, what: string): OutPoint {
  return { series: NO_SERIES, t, v: 0, h: undefined, delta: false, more: undefined, exemplars: NO_EXEMPLARS, what };
}

/**
 * Output points kept from one request to the next, as the decoder's (`PointPool`, ./model.ts): a gauge's
 * point is one of these and nothing else, so a steady sender's requests make no per-point garbage.
 */
export class OutPointPool {
  private readonly points: OutPoint[] = [];
  private used = 0;

  /** `max`: as the decoder's pool's. */
  constructor(private readonly max = 1 << 14) {}

  reset(): void {
    this.used = 0;
  }

  take(t: number, what: string): OutPoint {
    const p = this.points[this.used];
    if (p === undefined) {
      const fresh = newOutPoint(t, what);
      if (this.points.length < this.max) {
        this.points.push(fresh);
        this.used++;
      }
      return fresh;
    }
    this.used++;
    p.series = NO_SERIES;
    p.t = t;
    p.v = 0;
    p.h = undefined;
    p.delta = false;
    p.more = undefined;
    p.exemplars = NO_EXEMPLARS;
    p.what = what;
    return p;
  }
}
