/**
 * The head: the in-memory part of the TSDB holding the most recent samples in XOR chunks, with a
 * postings index. On its own (no WAL) it is the in-memory store; with a WAL and blocks it is the
 * front of the disk store.
 */
import { crashPoint } from '../../core/util/crashpoint.js';
import { compareLabels, formatLabels, labelsKey, validateLabels, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { isStaleNaN } from '../../core/model/value.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { StorageError } from '../../core/errors.js';
import { type Pacer, pacedSort, type Work } from '../../core/util/pace.js';
import {
  sortLimitPaced,
  type Appendable,
  type Appender,
  type Querier,
  type Queryable,
  type SelectHints,
  type SeriesRef,
  type SeriesSet,
} from '../storage/interface.js';
import { ArraySeriesSet, ChunkSeries, type ChunkMeta } from './chunk_series.js';
import { HistogramChunk } from './histogram_chunk.js';
import { XorEncoder, XorIterator } from './chunkenc/xor.js';
import { PostingsIndex } from './postings.js';
import { ChunkArena } from './chunk_arena.js';
import { RecordType, WalRecordWriter, type Wal } from './wal.js';
import { checkNewSeries, metricName, NO_SERIES_LIMITS, SeriesLimitError, type SeriesLimits } from './series_limits.js';
import { LimitRefusals } from '../../core/limits/refusals.js';
import type { TimeSlicer } from '../../core/util/pace.js';

/** Two hours, Prometheus' block length, in milliseconds. */
export const DEFAULT_CHUNK_RANGE = 2 * 3600 * 1000;

/** Options for {@link Head}. */
export interface HeadOptions {
  /** Length of a block in ms; chunks never cross a multiple of it. */
  chunkRange?: number;
  /** Samples per chunk before a new one is cut. */
  samplesPerChunk?: number;
  /** Where committed batches are logged before they become visible. */
  wal?: Wal;
  /** Refuse samples stamped more than this many ms ahead of the clock (default: an hour). */
  maxFutureMs?: number;
  /** The clock, for the future bound. */
  now?: () => number;
  /** Limits on new series (default: none). */
  limits?: SeriesLimits;
}

/**
 * How far ahead of the clock a sample may be stamped by default: half a block, so clock skew
 * between hosts is absorbed while a sample from a broken clock cannot stretch the head.
 */
export const DEFAULT_MAX_FUTURE_MS = DEFAULT_CHUNK_RANGE / 2;

/** A full chunk, immutable, its bytes packed in a {@link ChunkArena} page. */
export class ClosedChunk implements ChunkMeta {
  constructor(
    readonly mint: number,
    readonly maxt: number,
    /** The arena page holding the bytes, and where in it (read by the block writer's thread). */
    readonly page: Uint8Array,
    readonly offset: number,
    readonly length: number,
  ) {}

  /** The chunk's bytes (a view into its arena page). */
  get bytes(): Uint8Array {
    return this.page.subarray(this.offset, this.offset + this.length);
  }

  iterator(): XorIterator {
    return new XorIterator(this.bytes);
  }
}

/** One series in the head. */
export class MemSeries {
  readonly ref: number;
  readonly labels: Labels;
  closed: ClosedChunk[] = [];
  active: XorEncoder | undefined;
  /** Exclusive upper time bound of the active chunk. */
  activeEnd = 0;
  /** Latest committed sample. */
  lastT = -Infinity;
  lastV = 0;
  /** Per-appender view of the latest appended sample, so a batch checks order against itself. */
  batch = 0;
  batchT = -Infinity;
  batchV = 0;
  /** True once the WAL has a record of this series. */
  logged = false;
  /**
   * Chunks of native-histogram samples, in time order. A series may switch between floats and
   * histograms (as Prometheus allows across chunks): each switch starts a chunk of the other kind,
   * so float and histogram chunks never overlap in time and merge by their start.
   */
  histChunks: HistogramChunk[] = [];
  /** The last histogram chunk takes the next histogram sample (the last sample was a histogram). */
  histOpen = false;
  /** The latest committed sample's histogram (undefined when it was a float). */
  lastH: FloatHistogram | undefined;
  batchH: FloatHistogram | undefined;

  constructor(ref: number, labels: Labels) {
    this.ref = ref;
    this.labels = labels;
  }

  /** Time bounds over all chunks, or undefined if the series has no samples. */
  get mint(): number {
    const f = this.closed[0]?.mint ?? (this.active !== undefined && this.active.count > 0 ? this.active.mint : Infinity);
    return Math.min(f, this.histChunks[0]?.mint ?? Infinity);
  }

  /** True when the series holds no samples. */
  get empty(): boolean {
    return this.closed.length === 0 && this.active === undefined && this.histChunks.length === 0;
  }

  /** The chunks overlapping [mint, maxt], the active one as a snapshot of what it holds now. */
  chunksIn(mint: number, maxt: number): ChunkMeta[] {
    const out: ChunkMeta[] = [];
    for (const c of this.closed) if (c.maxt >= mint && c.mint <= maxt) out.push(c);
    const a = this.active;
    if (a && a.count > 0 && a.maxt >= mint && a.mint <= maxt) {
      const bytes = a.bytesView();
      const count = a.count;
      const end = a.bitLength;
      out.push({ mint: a.mint, maxt: a.maxt, iterator: () => new XorIterator(bytes, count, end) });
    }
    if (this.histChunks.length === 0) return out;
    for (const c of this.histChunks) if (c.count > 0 && c.maxt >= mint && c.mint <= maxt) out.push(c.snapshot());
    return out.sort((x, y) => x.mint - y.mint);
  }
}

let nextBatchId = 1;

function sameValue(a: number, b: number): boolean {
  if (a === b) return true;
  return a !== a && b !== b && isStaleNaN(a) === isStaleNaN(b);
}

/** Head statistics for self-monitoring and the TSDB status API. */
export interface HeadStats {
  series: number;
  chunks: number;
  samplesAppended: number;
  samplesOutOfOrder: number;
  mint: number;
  maxt: number;
}

/** The in-memory head. Also a complete in-memory {@link Appendable} and {@link Queryable}. */
export class Head implements Appendable, Queryable {
  readonly chunkRange: number;
  readonly samplesPerChunk: number;
  private readonly wal: Wal | undefined;
  private readonly byRef = new Map<number, MemSeries>();
  private readonly byKey = new Map<string, MemSeries>();
  private readonly postings = new PostingsIndex();
  private readonly arena = new ChunkArena();
  private lastRef = 0;
  /** Samples older than this are rejected: they belong to data already cut into blocks. */
  minValidTime = -Infinity;
  /** Time bounds of the samples in the head (Infinity/-Infinity when empty). */
  mint = Infinity;
  maxt = -Infinity;
  samplesAppended = 0;
  samplesOutOfOrder = 0;
  /** The oldest sample appended while a sliced truncation runs (it recomputes `mint` at its end). */
  private lowSinceTruncate = Infinity;
  readonly maxFutureMs: number;
  readonly now: () => number;
  /** Limits on new series; replay is exempt. Assignable so a running server can change them. */
  limits: SeriesLimits;
  /** New series refused, by limit. */
  readonly limitRefusals = new LimitRefusals();

  constructor(opts: HeadOptions = {}) {
    this.limits = opts.limits ?? NO_SERIES_LIMITS;
    this.chunkRange = opts.chunkRange ?? DEFAULT_CHUNK_RANGE;
    this.samplesPerChunk = opts.samplesPerChunk ?? 120;
    this.wal = opts.wal;
    this.maxFutureMs = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
    this.now = opts.now ?? Date.now;
  }

  /** The newest timestamp an append may carry now. */
  maxValidTime(): number {
    return this.now() + this.maxFutureMs;
  }

  /** Number of series in the head. */
  get numSeries(): number {
    return this.byRef.size;
  }

  /** Current statistics. */
  stats(): HeadStats {
    let chunks = 0;
    for (const s of this.byRef.values()) chunks += s.closed.length + (s.active ? 1 : 0) + s.histChunks.length;
    return {
      series: this.byRef.size,
      chunks,
      samplesAppended: this.samplesAppended,
      samplesOutOfOrder: this.samplesOutOfOrder,
      mint: this.mint,
      maxt: this.maxt,
    };
  }

  /** The series with this ref, if it is still in the head. */
  series(ref: number): MemSeries | undefined {
    return this.byRef.get(ref);
  }

  /** All series, in ref order. */
  allSeries(): IterableIterator<MemSeries> {
    return this.byRef.values();
  }

  /** Series with the given metric name. */
  seriesOfMetric(name: string): number {
    return this.postings.count('__name__', name);
  }

  /** The most series any one metric name has (the usage of max_global_series_per_metric). */
  largestMetricSeries(): number {
    return this.postings.largestValueCount('__name__');
  }

  /**
   * Finds or creates the series for `labels`; throws for labels that cannot be stored, and for a new
   * series past a limit (a {@link SeriesLimitError}).
   */
  getOrCreate(labels: Labels): MemSeries {
    const found = this.byKey.get(labelsKey(labels));
    if (found) return found;
    try {
      checkNewSeries(labels, this.limits, this.byRef.size, () => this.seriesOfMetric(metricName(labels)));
    } catch (err) {
      if (err instanceof SeriesLimitError) this.limitRefusals.add(err.limit);
      throw err;
    }
    return this.create(labels);
  }

  /** Finds or creates a series without checking limits: for what the WAL already acknowledged. */
  private create(labels: Labels, ref?: number): MemSeries {
    const key = labelsKey(labels);
    const found = this.byKey.get(key);
    if (found) return found;
    const problem = validateLabels(labels);
    if (problem) throw new StorageError('invalid_series', `${problem}: ${formatLabels(labels)}`);
    const s = new MemSeries(ref ?? ++this.lastRef, labels);
    if (s.ref > this.lastRef) this.lastRef = s.ref;
    this.byRef.set(s.ref, s);
    this.byKey.set(key, s);
    this.postings.add(s.ref, labels);
    return s;
  }

  /** Appends one sample that was already checked, cutting a new chunk when the current one is full. */
  appendChecked(s: MemSeries, t: number, v: number, h?: FloatHistogram): void {
    if (t <= s.lastT) {
      // Another appender committed a later sample between this one's append and commit.
      this.samplesOutOfOrder++;
      return;
    }
    if (h !== undefined) return this.appendHistogramChecked(s, t, h);
    s.histOpen = false;
    s.lastH = undefined;
    let a = s.active;
    // A chunk that ends before minValidTime is being cut into a block (a flush fenced the head at
    // its end): the new sample starts a chunk of its own, so the block gets exactly what was fenced.
    if (a === undefined || a.count >= this.samplesPerChunk || t >= s.activeEnd || (a.count > 0 && a.maxt < this.minValidTime)) {
      if (a !== undefined) {
        s.closed.push(this.close(a));
        // The bytes now live in the arena. Queries run to completion between appends, so no
        // iterator still reads the encoder's buffer, and it can take the next chunk.
        a.reset();
      } else a = s.active = new XorEncoder();
      s.activeEnd = (Math.floor(t / this.chunkRange) + 1) * this.chunkRange;
    }
    a.append(t, v);
    s.lastT = t;
    s.lastV = v;
    if (t < this.mint) this.mint = t;
    if (t < this.lowSinceTruncate) this.lowSinceTruncate = t;
    if (t > this.maxt) this.maxt = t;
    this.samplesAppended++;
  }

  /** Appends a histogram sample: the float chunk (if any) is sealed, histogram chunks cut like float ones. */
  private appendHistogramChecked(s: MemSeries, t: number, h: FloatHistogram): void {
    const a = s.active;
    if (a !== undefined) {
      if (a.count > 0) s.closed.push(this.close(a));
      s.active = undefined;
    }
    let c = s.histOpen ? s.histChunks[s.histChunks.length - 1] : undefined;
    // Counter-reset hints as Prometheus' histogram chunks give them back: a counter histogram that
    // continues its chunk is `not_reset`; a reset starts a chunk; the first sample of a new chunk
    // is `unknown` unless the sample itself declared `reset` (Prometheus returns a detected reset
    // as `unknown` too, prometheus/prometheus#15346; readers detect it again from the counts).
    // Gauges stay gauges, and a switch between gauge and counter starts a chunk.
    const prev = c?.hs[c.hs.length - 1];
    let cut = c === undefined || c.count >= this.samplesPerChunk || t >= c.end || c.maxt < this.minValidTime;
    let stored = h;
    if (h.counterResetHint !== 'gauge') {
      if (prev === undefined || prev.counterResetHint === 'gauge' || h.counterResetHint === 'reset' || h.detectReset(prev)) cut = true;
      const hint = cut ? (h.counterResetHint === 'reset' ? 'reset' : 'unknown') : 'not_reset';
      if (hint !== h.counterResetHint) stored = h.with({ counterResetHint: hint });
    } else if (prev !== undefined && prev.counterResetHint !== 'gauge') cut = true;
    if (cut || c === undefined) {
      c = new HistogramChunk((Math.floor(t / this.chunkRange) + 1) * this.chunkRange);
      s.histChunks.push(c);
      s.histOpen = true;
    }
    c.append(t, stored);
    s.lastT = t;
    s.lastV = NaN;
    s.lastH = h;
    if (t < this.mint) this.mint = t;
    if (t < this.lowSinceTruncate) this.lowSinceTruncate = t;
    if (t > this.maxt) this.maxt = t;
    this.samplesAppended++;
  }

  /** Moves a full chunk's bytes into the arena. */
  private close(a: XorEncoder): ClosedChunk {
    const { page, offset, length } = this.arena.store(a.bytesView(), a.byteLength);
    return new ClosedChunk(a.mint, a.maxt, page, offset, length);
  }

  /** Sample buffers of finished appenders, reused so a steady stream of batches makes no garbage. */
  readonly spareBuffers: Array<{ ts: Float64Array; vs: Float64Array; series: MemSeries[] }> = [];

  appender(): Appender {
    return new HeadAppender(this, this.wal);
  }

  querier(mint: number, maxt: number): Querier {
    return new HeadQuerier(this, mint, maxt);
  }

  /** Series ids matching all matchers, in ref order. */
  selectRefs(matchers: readonly Matcher[]): number[] {
    return this.postings.select(matchers);
  }

  /** Label names and values straight from the index (no time filtering). */
  indexNames(): IterableIterator<string> {
    return this.postings.names();
  }

  indexValues(name: string): IterableIterator<string> {
    return this.postings.values(name);
  }

  /**
   * Moves the active chunk of `s` into the arena if all of it lies before `t`, so a block write can
   * read it while appends go on (the fence in appendChecked keeps later samples out of it).
   */
  sealBefore(s: MemSeries, t: number): void {
    const a = s.active;
    if (a && a.count > 0 && a.maxt < t) {
      s.closed.push(this.close(a));
      s.active = undefined;
    }
  }

  /**
   * Takes out every chunk that ends before `t` (the block holding them is in place), drops series
   * left empty and refuses samples before `t` from now on. Runs in slices, for a running server:
   * appends and queries go on between them. The caller has already raised minValidTime to `t`
   * (the fence), so no sample before `t` arrives meanwhile;
   * a series is dropped only if it is still empty when its turn comes, and `mint` counts samples
   * appended during the pass too.
   */
  async truncateBeforeSliced(t: number, slicer: TimeSlicer): Promise<void> {
    this.minValidTime = Math.max(this.minValidTime, t);
    this.lowSinceTruncate = Infinity;
    let mint = Infinity;
    // In map order, which is creation order: refs ascend, so the postings need not sort them.
    const removed: number[] = [];
    // Map iteration visits series created during the pass as well.
    for (const s of this.byRef.values()) {
      this.sealBefore(s, t);
      let n = 0;
      while (n < s.closed.length && s.closed[n]!.maxt < t) n++;
      if (n > 0) s.closed = s.closed.slice(n);
      let hn = 0;
      while (hn < s.histChunks.length && s.histChunks[hn]!.maxt < t) hn++;
      if (hn > 0) {
        if (hn === s.histChunks.length) s.histOpen = false;
        s.histChunks = s.histChunks.slice(hn);
      }
      if (s.empty) {
        // Gone from lookups at once, so an append during the pass creates a fresh series instead
        // of writing into one that is about to leave the index.
        this.byRef.delete(s.ref);
        this.byKey.delete(labelsKey(s.labels));
        removed.push(s.ref);
      } else mint = Math.min(mint, s.mint);
      crashPoint('compactHead.seriesTruncated');
      if (slicer.due()) await slicer.tick();
    }
    // Queries skip ids the map no longer has, so postings may lag behind while this runs.
    await this.postings.removeSliced(removed, slicer);
    this.mint = Math.min(mint, this.lowSinceTruncate);
    if (this.byRef.size === 0) this.maxt = -Infinity;
  }

  /**
   * Takes back series a rolled-back batch created, unless they got samples meanwhile: a refused
   * request must not leave empty series behind that count against max_global_series.
   */
  dropCreated(created: readonly MemSeries[]): void {
    for (const s of created) {
      if (!s.empty || s.logged || this.byRef.get(s.ref) !== s) continue;
      this.byRef.delete(s.ref);
      this.byKey.delete(labelsKey(s.labels));
      this.postings.removeOne(s.ref, s.labels);
    }
  }

  /** Loads a WAL record during replay, skipping what blocks already hold. */
  replaySample(ref: number, t: number, v: number): void {
    const s = this.byRef.get(ref);
    if (!s || t < this.minValidTime) return;
    this.appendChecked(s, t, v);
  }

  /** Loads a WAL histogram sample during replay, skipping what blocks already hold. */
  replayHistogram(ref: number, t: number, h: FloatHistogram): void {
    const s = this.byRef.get(ref);
    if (!s || t < this.minValidTime) return;
    this.appendChecked(s, t, NaN, h);
  }

  /** Restores a series with its original ref during replay. */
  replaySeries(ref: number, labels: Labels): void {
    // Never limited: these series were acknowledged before the restart, whatever the limits are now.
    const s = this.create(labels, ref);
    s.logged = true;
    if (s.ref !== ref) this.byRef.set(ref, s); // the same labels logged twice under two refs
  }
}

const NO_SAMPLES = new Float64Array(0);

/** A timestamp for a message; past the range a Date can show (±275,000 years) it stays a number. */
function isoTime(t: number): string {
  return Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : `${t} ms`;
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(Math.max(256, a.length * 2));
  b.set(a);
  return b;
}

/** A batch of samples for the head; checks order on append, logs to the WAL and applies on commit. */
class HeadAppender implements Appender {
  private readonly head: Head;
  private readonly wal: Wal | undefined;
  private readonly id = nextBatchId++;
  private series: MemSeries[] = [];
  private ts: Float64Array;
  // A Float64Array keeps NaN payloads (the staleness marker) that a plain array may normalise.
  private vs: Float64Array;
  private n = 0;
  /** Series this batch created, taken back on rollback (usually empty: new series are rare). */
  private readonly created: MemSeries[] = [];
  /** The future bound, read from the clock once per batch. */
  private readonly maxT: number;
  /** Histogram samples of the batch by position (rare: kept apart from the float buffers). */
  private hists: Map<number, FloatHistogram> | undefined;

  constructor(head: Head, wal: Wal | undefined) {
    this.head = head;
    this.wal = wal;
    this.maxT = head.maxValidTime();
    const spare = head.spareBuffers.pop();
    this.ts = spare?.ts ?? new Float64Array(256);
    this.vs = spare?.vs ?? new Float64Array(256);
    this.series = spare?.series ?? [];
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    return this.add(ref, labels, t, v, undefined);
  }

  /** Adds a native-histogram sample (logged in the WAL's histogram records on commit). */
  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram): SeriesRef {
    const problem = h.validate();
    if (problem !== undefined) throw new StorageError('invalid_argument', `${problem} for ${formatLabels(labels)}`);
    return this.add(ref, labels, t, NaN, h);
  }

  private add(ref: SeriesRef, labels: Labels, t: number, v: number, h: FloatHistogram | undefined): SeriesRef {
    const head = this.head;
    let s = ref !== 0 ? head.series(ref) : undefined;
    if (s === undefined) {
      const before = head.numSeries;
      s = head.getOrCreate(labels);
      if (head.numSeries > before) this.created.push(s);
    }
    if (!Number.isSafeInteger(t)) throw new StorageError('invalid_argument', `invalid timestamp ${t} for ${formatLabels(s.labels)}`);
    if (t < head.minValidTime) {
      throw new StorageError(
        'too_old',
        `out of bounds: sample at ${isoTime(t)} for ${formatLabels(s.labels)} is older than the head (${isoTime(head.minValidTime)})`,
      );
    }
    if (t > this.maxT) {
      throw new StorageError(
        'too_new',
        `out of bounds: sample at ${isoTime(t)} for ${formatLabels(s.labels)} is more than ${head.maxFutureMs / 1000}s ahead of the server's clock (${isoTime(this.maxT - head.maxFutureMs)})`,
      );
    }
    if (s.batch !== this.id) {
      s.batch = this.id;
      s.batchT = s.lastT;
      s.batchV = s.lastV;
      s.batchH = s.lastH;
    }
    if (t <= s.batchT) {
      if (t === s.batchT) {
        // A resend of what we have: not an error.
        if (h === undefined ? s.batchH === undefined && sameValue(v, s.batchV) : s.batchH !== undefined && h.equals(s.batchH)) return s.ref;
        throw new StorageError('duplicate_sample', `duplicate sample for timestamp ${isoTime(t)} with a different value for ${formatLabels(s.labels)}`);
      }
      throw new StorageError(
        'out_of_order',
        `out of order sample: ${isoTime(t)} is before the latest sample ${isoTime(s.batchT)} of ${formatLabels(s.labels)}`,
      );
    }
    s.batchT = t;
    s.batchV = v;
    s.batchH = h;
    if (h !== undefined) (this.hists ??= new Map()).set(this.n, h);
    if (this.n === this.ts.length) {
      this.ts = grow(this.ts);
      this.vs = grow(this.vs);
    }
    // By index: a spare array may still hold the series of an earlier batch past `n`.
    this.series[this.n] = s;
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
    return s.ref;
  }

  commit(): void {
    const { head, wal, n, series, ts, vs } = this;
    if (n === 0) {
      this.created.length = 0;
      return this.reset();
    }
    if (wal) {
      const rw = walWriter;
      rw.w.reset();
      rw.begin(RecordType.series);
      let fresh = 0;
      for (let i = 0; i < n; i++) {
        const s = series[i]!;
        if (!s.logged) {
          rw.series(s.ref, s.labels);
          // Marked before the write so a series repeated in the batch is logged once; unmarked
          // again below if the write fails, so the next batch logs it.
          s.logged = true;
          freshSeries[fresh++] = s;
        }
      }
      rw.end();
      const hists = this.hists;
      if (hists === undefined) {
        rw.begin(RecordType.samples);
        for (let i = 0; i < n; i++) rw.sample(series[i]!.ref, ts[i]!, vs[i]!);
        rw.end();
      } else logMixed(rw, n, series, ts, vs, hists);
      try {
        wal.write(rw.w.view());
      } catch (err) {
        for (let i = 0; i < fresh; i++) freshSeries[i]!.logged = false;
        throw err;
      } finally {
        freshSeries.length = 0;
      }
    }
    const hists = this.hists;
    if (hists === undefined) for (let i = 0; i < n; i++) head.appendChecked(series[i]!, ts[i]!, vs[i]!);
    else for (let i = 0; i < n; i++) head.appendChecked(series[i]!, ts[i]!, vs[i]!, hists.get(i));
    this.created.length = 0;
    this.reset();
  }

  rollback(): void {
    // Only series no other open batch has touched since (the last to append to them was this one).
    const mine = this.created.filter((s) => s.batch === this.id || s.batch === 0);
    this.reset();
    if (mine.length > 0) this.head.dropCreated(mine);
    this.created.length = 0;
  }

  private reset(): void {
    this.hists = undefined;
    for (let i = 0; i < this.n; i++) this.series[i]!.batch = 0;
    // Cut to this batch's length rather than emptied: an emptied array lets go of its backing store,
    // and the next batch would grow a new one push by push (a scrape of 10,000 series, every scrape).
    // What it still points to is overwritten by the next batch.
    if (this.series.length > this.n) this.series.length = this.n;
    this.n = 0;
    // Hand the buffers back; an appender used again after commit starts with fresh ones.
    if (this.ts.length > 0 && this.head.spareBuffers.length < 16) this.head.spareBuffers.push({ ts: this.ts, vs: this.vs, series: this.series });
    this.series = [];
    this.ts = NO_SAMPLES;
    this.vs = NO_SAMPLES;
  }
}

/**
 * Logs a batch holding histograms: a samples or histograms record per run of one kind, in batch
 * order, so a series that switches kind within the batch replays in time order.
 */
function logMixed(rw: WalRecordWriter, n: number, series: MemSeries[], ts: Float64Array, vs: Float64Array, hists: Map<number, FloatHistogram>): void {
  let open = 0;
  for (let i = 0; i < n; i++) {
    const h = hists.get(i);
    const type = h === undefined ? RecordType.samples : RecordType.histograms;
    if (type !== open) {
      if (open !== 0) rw.end();
      rw.begin(type);
      open = type;
    }
    if (h === undefined) rw.sample(series[i]!.ref, ts[i]!, vs[i]!);
    else rw.histogram(series[i]!.ref, ts[i]!, h);
  }
  rw.end();
}

/** One record writer serves every appender: commits run to completion one at a time. */
const walWriter = new WalRecordWriter();
/** The series a commit logs for the first time (scratch, shared for the same reason). */
const freshSeries: MemSeries[] = [];

/** Reads the head over a time range. */
class HeadQuerier implements Querier {
  constructor(
    private readonly head: Head,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  private overlaps(): boolean {
    return this.head.maxt >= this.mint && this.head.mint <= this.maxt;
  }

  private matching(matchers: readonly Matcher[]): MemSeries[] {
    const out: MemSeries[] = [];
    if (!this.overlaps()) return out;
    for (const ref of this.head.selectRefs(matchers)) {
      const s = this.head.series(ref);
      if (s && s.chunksIn(this.mint, this.maxt).length > 0) out.push(s);
    }
    return out;
  }

  select(hints: SelectHints, matchers: readonly Matcher[]): SeriesSet {
    const mint = Math.max(this.mint, hints.start);
    const maxt = Math.min(this.maxt, hints.end);
    const list: ChunkSeries[] = [];
    for (const s of this.matching(matchers)) {
      const chunks = s.chunksIn(mint, maxt);
      if (chunks.length > 0) list.push(new ChunkSeries(s.labels, chunks, mint, maxt));
    }
    list.sort((a, b) => compareLabels(a.labels, b.labels));
    if (hints.limit && list.length > hints.limit) list.length = hints.limit;
    return new ArraySeriesSet(list);
  }

  /** {@link select} in slices: matching and the sort by labels yield when the pacer is due. */
  *selectPaced(hints: SelectHints, matchers: readonly Matcher[], pace: Pacer): Work<SeriesSet> {
    const mint = Math.max(this.mint, hints.start);
    const maxt = Math.min(this.maxt, hints.end);
    const list: ChunkSeries[] = [];
    if (this.overlaps()) {
      const refs = this.head.selectRefs(matchers);
      for (let i = 0; i < refs.length; i++) {
        if ((i & 1023) === 1023 && pace.due()) {
          pace.check();
          yield;
        }
        const s = this.head.series(refs[i]!);
        const chunks = s?.chunksIn(mint, maxt);
        if (s && chunks && chunks.length > 0) list.push(new ChunkSeries(s.labels, chunks, mint, maxt));
      }
    }
    yield* pacedSort(list, (a, b) => compareLabels(a.labels, b.labels), pace);
    if (hints.limit && list.length > hints.limit) list.length = hints.limit;
    return new ArraySeriesSet(list);
  }

  /** The series matching `matchers` with samples in range, in slices. */
  private *matchingPaced(matchers: readonly Matcher[], pace: Pacer): Work<MemSeries[]> {
    const out: MemSeries[] = [];
    if (!this.overlaps()) return out;
    const refs = this.head.selectRefs(matchers);
    for (let i = 0; i < refs.length; i++) {
      if ((i & 1023) === 1023 && pace.due()) {
        pace.check();
        yield;
      }
      const s = this.head.series(refs[i]!);
      if (s && s.chunksIn(this.mint, this.maxt).length > 0) out.push(s);
    }
    return out;
  }

  *labelValuesPaced(name: string, matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]> {
    const values: string[] = [];
    if (matchers.length === 0) {
      if (!this.overlaps()) return values;
      for (const v of this.head.indexValues(name)) {
        if ((values.push(v) & 4095) === 0 && pace.due()) {
          pace.check();
          yield;
        }
      }
    } else {
      const set = new Set<string>();
      const matched = yield* this.matchingPaced(matchers, pace);
      for (let i = 0; i < matched.length; i++) {
        for (const l of matched[i]!.labels) if (l.name === name) set.add(l.value);
        if ((i & 1023) === 1023 && pace.due()) {
          pace.check();
          yield;
        }
      }
      for (const v of set) values.push(v);
    }
    return yield* sortLimitPaced(values, pace, limit);
  }

  *labelNamesPaced(matchers: readonly Matcher[], pace: Pacer, limit?: number): Work<string[]> {
    if (matchers.length === 0) return sortLimit(this.overlaps() ? [...this.head.indexNames()] : [], limit);
    const set = new Set<string>();
    const matched = yield* this.matchingPaced(matchers, pace);
    for (let i = 0; i < matched.length; i++) {
      for (const l of matched[i]!.labels) set.add(l.name);
      if ((i & 1023) === 1023 && pace.due()) {
        pace.check();
        yield;
      }
    }
    return sortLimit([...set], limit);
  }

  labelValues(name: string, matchers: readonly Matcher[], limit?: number): string[] {
    let values: string[];
    if (matchers.length === 0) values = this.overlaps() ? [...this.head.indexValues(name)] : [];
    else {
      const set = new Set<string>();
      for (const s of this.matching(matchers)) for (const l of s.labels) if (l.name === name) set.add(l.value);
      values = [...set];
    }
    return sortLimit(values, limit);
  }

  labelNames(matchers: readonly Matcher[], limit?: number): string[] {
    let names: string[];
    if (matchers.length === 0) names = this.overlaps() ? [...this.head.indexNames()] : [];
    else {
      const set = new Set<string>();
      for (const s of this.matching(matchers)) for (const l of s.labels) set.add(l.name);
      names = [...set];
    }
    return sortLimit(names, limit);
  }

  close(): void {}
}

/** Sorts strings by code unit order and keeps at most `limit` of them. */
export function sortLimit(values: string[], limit?: number): string[] {
  values.sort();
  if (limit && values.length > limit) values.length = limit;
  return values;
}
