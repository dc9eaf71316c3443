/**
 * The storage seams, after Prometheus' storage interfaces. Ingest paths (scrape, remote_write,
 * OTLP, recording rules) depend only on {@link Appendable}; queries depend only on {@link Queryable}.
 */
import type { Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { pacedSort, type Pacer, type Work } from '../../core/util/pace.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import type { SelfHistogram } from '../../core/selfmon/registry.js';

/** An opaque reference to a series, handed back by an appender so the next append can skip lookup. */
export type SeriesRef = number;

/** A batch of writes: nothing becomes visible or durable until {@link Appender.commit}. */
export interface Appender {
  /**
   * Adds one sample. Pass `ref` 0 on first sight of a series; pass the returned ref next time, with
   * the same labels. Throws a {@link StorageError} for a sample the store rejects (out of order,
   * duplicate, too old, invalid labels); the rest of the batch stays usable.
   */
  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef;
  /**
   * {@link append}, but only after every sample the series has (stored or in this batch), never into
   * the out-of-order window: how Prometheus adds a created timestamp's zero sample, which placed
   * among later samples would read as a counter reset. Refused as `append` refuses a late sample
   * beyond the window (`out_of_order`, `duplicate_sample`, `too_old`); an exact resend is a no-op.
   */
  appendInOrder(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef;
  /** Adds one native-histogram sample, like {@link append}. */
  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram): SeriesRef;
  /** Makes the batch durable (written to the WAL) and visible. */
  commit(): void;
  /** Drops the batch. */
  rollback(): void;
}

/** Something that can be written to. */
export interface Appendable {
  appender(): Appender;
}

/** Hints that let a store skip work; a store may ignore them. */
export interface SelectHints {
  /** Start of the time range, in milliseconds. */
  readonly start: number;
  /** End of the time range, in milliseconds. */
  readonly end: number;
  /** Only the label sets are wanted, not the samples. */
  readonly seriesOnly?: boolean;
  /** At most this many series (0 or absent: no limit). */
  readonly limit?: number;
  /**
   * Only each series' newest sample at or before `end` is read (an instant query's instant
   * selector): a store that knows it without decoding may hand out that sample alone.
   */
  readonly latestOnly?: boolean;
}

/**
 * A pull iterator over the samples of one series in time order. `next()` advances and returns false
 * at the end; `t()` and `v()` read the current sample, so no object is made per sample.
 */
export interface SampleIterator {
  next(): boolean;
  /** Advances to the first sample with timestamp >= t; returns false if there is none. */
  seek(t: number): boolean;
  t(): number;
  v(): number;
  /**
   * The current sample's native histogram, or undefined when the sample is a float (`v()` is then
   * its value; for a histogram sample `v()` is NaN). Absent on iterators of float-only stores.
   */
  h?(): FloatHistogram | undefined;
  /**
   * Bulk read, for iterators positioned on a sample (after `next()` or `seek()` returned true):
   * appends the float samples from the current one on with t ≤ `maxt` to `sink` (staleness markers
   * left out when `dropStale`), decoding without a call per sample. Returns true when it is done (no
   * samples left or past `maxt`; the iterator is then spent), false when it stopped on a native
   * histogram sample, which is then the current sample.
   */
  readFloats?(maxt: number, sink: FloatSink, dropStale: boolean): boolean;
}

/**
 * Growable parallel arrays that a bulk read appends float samples to, `n` of them used. Samples
 * before `start` belong to earlier reads whose owners keep views of them: growing moves only
 * `[start, n)` into new arrays (and `start` to 0), so one sink can serve as an arena for many series.
 */
export interface FloatSink {
  ts: Float64Array;
  vs: Float64Array;
  n: number;
  start: number;
}

/** Arrays a growing sink gets hold up to this many samples more than asked, so blocks serve many series. */
const SINK_BLOCK = 1 << 14;

/** Makes room in `sink` for `extra` more samples, keeping `[start, n)`. */
export function reserveFloats(sink: FloatSink, extra: number): void {
  if (sink.n + extra <= sink.ts.length) return;
  const keep = sink.n - sink.start;
  // Room for about 64 more reads of this size (capped), so small reads do not make big blocks.
  const size = Math.max(Math.min(SINK_BLOCK, 64 * (keep + extra)), (keep + extra) * 2);
  const ts = new Float64Array(size);
  ts.set(sink.ts.subarray(sink.start, sink.n));
  const vs = new Float64Array(size);
  vs.set(sink.vs.subarray(sink.start, sink.n));
  sink.ts = ts;
  sink.vs = vs;
  sink.n = keep;
  sink.start = 0;
}

/** One series in a query result. */
export interface Series {
  readonly labels: Labels;
  iterator(): SampleIterator;
}

/** A pull iterator over series, sorted by labels. */
export interface SeriesSet {
  next(): boolean;
  at(): Series;
  /** Non-fatal problems met while selecting (for example a block that could not be read). */
  warnings(): readonly string[];
}

/** A view of the store over [mint, maxt]; close it when done. */
export interface Querier {
  /** Series matching all matchers, sorted by labels. */
  select(hints: SelectHints, matchers: readonly Matcher[]): SeriesSet;
  /**
   * {@link select} in slices (core/util/pace): a store whose selection is costly (the head sorts
   * what it matched) yields when the pacer is due, so a query over a million series does not hold
   * the event loop while it selects. Optional: without it, `select` is called.
   */
  selectPaced?(hints: SelectHints, matchers: readonly Matcher[], pace: Pacer): Work<SeriesSet>;
  /** Sorted distinct values of `name` over series matching `matchers` (all series when empty). */
  labelValues(name: string, matchers: readonly Matcher[], limit?: number): string[];
  /** Sorted label names over series matching `matchers` (all series when empty). */
  labelNames(matchers: readonly Matcher[], limit?: number): string[];
  /** {@link labelValues} in slices, for the metadata API over a million series. Optional. */
  labelValuesPaced?(name: string, matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]>;
  /** {@link labelNames} in slices. Optional. */
  labelNamesPaced?(matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]>;
  close(): void;
}

/** Code-unit order of strings, as `Array.prototype.sort` without a comparator. */
export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Sorts `values` in slices and keeps at most `limit` of them (the paced twin of sorting and cutting a label list). */
export function* sortLimitPaced(values: string[], pace: Pacer, limit?: number): Work<string[]> {
  yield* pacedSort(values, compareStrings, pace);
  if (limit && values.length > limit) values.length = limit;
  return values;
}

/** `q.selectPaced` where the querier has it, else its `select`. */
export function* selectOf(q: Querier, hints: SelectHints, matchers: readonly Matcher[], pace: Pacer): Work<SeriesSet> {
  return q.selectPaced ? yield* q.selectPaced(hints, matchers, pace) : q.select(hints, matchers);
}

/** `q.labelValuesPaced` where the querier has it, else its `labelValues`. */
export function* labelValuesOf(q: Querier, name: string, matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]> {
  return q.labelValuesPaced ? yield* q.labelValuesPaced(name, matchers, pace, limit) : q.labelValues(name, matchers, limit);
}

/** `q.labelNamesPaced` where the querier has it, else its `labelNames`. */
export function* labelNamesOf(q: Querier, matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]> {
  return q.labelNamesPaced ? yield* q.labelNamesPaced(matchers, pace, limit) : q.labelNames(matchers, limit);
}

/** Something that can be queried. */
export interface Queryable {
  querier(mint: number, maxt: number): Querier;
}

/** What a query will select: one selector's matchers over the time range it reads, in ms. */
export interface Selection {
  readonly start: number;
  readonly end: number;
  readonly matchers: readonly Matcher[];
}

/**
 * A store read over the network (remote_read). Queriers are synchronous pull iterators, so such a
 * store fetches what a query will select before the query runs and hands back a {@link Queryable}
 * over what it fetched; that Queryable answers those selections only.
 */
export interface FetchingQueryable {
  /** Named in errors and warnings. */
  readonly name: string;
  fetch(selections: readonly Selection[], signal: AbortSignal): Promise<Queryable>;
  /** Starts recording each fetch in `latency` (labels: the source's name, the answer's encoding, the outcome). */
  observeWith?(latency: SelfHistogram): void;
  /** Releases connections. */
  close?(): void;
}

/** A store that is both written and read, with a lifecycle. */
export interface Storage extends Appendable, Queryable {
  start(): Promise<void>;
  stop(): Promise<void>;
}
