/**
 * The head: the in-memory part of the TSDB holding the most recent samples in XOR chunks, with a
 * postings index. On its own (no WAL) it is the in-memory store; with a WAL and blocks it is the
 * front of the disk store.
 */
import { crashPoint } from '../../core/util/crashpoint.js';
import { formatLabels, labelsKey, validateLabels, type Labels } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { StorageError } from '../../core/errors.js';
import { NEVER_PAUSE, type Pacer, runSync, type Work } from '../../core/util/pace.js';
import {
  sortLimitPaced,
  type Appendable,
  type Appender,
  type Querier,
  type Queryable,
  type SelectHints,
  type Series,
  type SeriesRef,
  type SeriesSet,
} from '../storage/interface.js';
import { ArraySeriesSet, ChunkSeries, LatestSampleSeries, type ChunkMeta, type ChunkOpener } from './chunk_series.js';
import { openCached, type DecodedChunk, type DecodedChunkCache } from './decoded_chunks.js';
import { HistogramChunk } from './histogram_chunk.js';
import { XorEncoder, XorIterator } from './chunkenc/xor.js';
import { PostingsIndex } from './postings.js';
import { LabelOrder, UNRANKED } from './label_order.js';
import { ChunkArena } from './chunk_arena.js';
import { RecordType, WalRecordWriter, type Wal } from './wal.js';
import { BatchSamples, isoTime, logMixedBatch, orderRefusal, sameValue, type SpareSamples } from './append_batch.js';
import { checkNewSeries, metricName, NO_SERIES_LIMITS, SeriesLimitError, type SeriesLimits } from './series_limits.js';
import { LimitRefusals } from '../../core/limits/refusals.js';
import type { TimeSlicer } from '../../core/util/pace.js';
import { inOrderValueAt, mergedChunk, oooConflict, OooSamples } from './ooo.js';

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
  /** Accept float samples this many ms older than the head's newest into a series' out-of-order buffer (default 0: off). */
  outOfOrderWindowMs?: number;
  /** Where queries keep the decoded samples of closed chunks (default: nowhere). */
  decodedChunks?: DecodedChunkCache;
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
  /** The open batch holds a histogram sample of this series (a late float may then not follow). */
  batchHadHistogram = false;
  /** Float samples that arrived older than `lastT` within the out-of-order window (see ooo.ts). */
  ooo: OooSamples | undefined;
  /** Its place in the head's {@link LabelOrder}. */
  labelRank = UNRANKED;

  /**
   * The series' key in the head's lookup map, kept (the map holds the string anyway) so removing a
   * million series after a flush does not build every key again on the event loop's thread.
   */
  readonly key: string;

  constructor(ref: number, labels: Labels, key: string) {
    this.ref = ref;
    this.labels = labels;
    this.key = key;
  }

  /** Time bounds over all chunks, or undefined if the series has no samples. */
  get mint(): number {
    const f = this.closed[0]?.mint ?? (this.active !== undefined && this.active.count > 0 ? this.active.mint : Infinity);
    return Math.min(f, this.histChunks[0]?.mint ?? Infinity, this.ooo?.mint ?? Infinity);
  }

  /** True when the series holds no samples. */
  get empty(): boolean {
    return this.closed.length === 0 && this.active === undefined && this.histChunks.length === 0 && (this.ooo === undefined || this.ooo.n === 0);
  }

  /**
   * The chunks overlapping [mint, maxt], the active one as a snapshot of what it holds now; with
   * out-of-order samples in the range, one chunk merging them with the in-order ones.
   */
  chunksIn(mint: number, maxt: number): ChunkMeta[] {
    const inOrder = this.inOrderChunksIn(mint, maxt);
    const ooo = this.ooo;
    if (ooo === undefined || ooo.n === 0 || ooo.maxt < mint || ooo.mint > maxt) return inOrder;
    const merged = mergedChunk(inOrder, ooo, mint, maxt);
    return merged ? [merged] : inOrder;
  }

  /**
   * Whether the newest sample is a float within [mint, maxt], so it alone answers a
   * {@link SelectHints.latestOnly} read. A NaN is left to the chunks: a staleness marker is told
   * by its bits, which a plain number field need not keep.
   */
  latestIn(mint: number, maxt: number): boolean {
    return this.lastT >= mint && this.lastT <= maxt && this.lastH === undefined && !Number.isNaN(this.lastV);
  }

  /**
   * Whether some chunk (or the out-of-order buffer) overlaps [mint, maxt]: true for every series
   * whose {@link chunksIn} is not empty, without listing the chunks.
   */
  mayHaveSamplesIn(mint: number, maxt: number): boolean {
    const closed = this.closed;
    const i = this.closedFrom(mint);
    if (i < closed.length && closed[i]!.mint <= maxt) return true;
    const a = this.active;
    if (a !== undefined && a.count > 0 && a.maxt >= mint && a.mint <= maxt) return true;
    for (const c of this.histChunks) if (c.count > 0 && c.maxt >= mint && c.mint <= maxt) return true;
    const ooo = this.ooo;
    return ooo !== undefined && ooo.n > 0 && ooo.maxt >= mint && ooo.mint <= maxt;
  }

  /**
   * The index of the oldest closed chunk that ends at or after `mint`. Closed chunks are in time
   * order and do not overlap, so those ending before `mint` are a prefix: scanned from the newest,
   * a range near the head's end (what most queries read) touches one or two chunks, not all.
   */
  private closedFrom(mint: number): number {
    const closed = this.closed;
    let i = closed.length;
    while (i > 0 && closed[i - 1]!.maxt >= mint) i--;
    return i;
  }

  /** The in-order chunks overlapping [mint, maxt] (float and histogram), by start time. */
  inOrderChunksIn(mint: number, maxt: number): ChunkMeta[] {
    const out: ChunkMeta[] = [];
    const closed = this.closed;
    for (let i = this.closedFrom(mint); i < closed.length && closed[i]!.mint <= maxt; i++) out.push(closed[i]!);
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
  /** Puts selections in label order. */
  readonly labelOrder = new LabelOrder<MemSeries>(
    () => this.byRef.values(),
    () => this.byRef.size,
  );
  private lastRef = 0;
  /** Samples older than this are rejected: they belong to data already cut into blocks. */
  minValidTime = -Infinity;
  /** Time bounds of the samples in the head (Infinity/-Infinity when empty). */
  mint = Infinity;
  maxt = -Infinity;
  samplesAppended = 0;
  samplesOutOfOrder = 0;
  /** Samples taken into out-of-order buffers (also counted in samplesAppended). */
  samplesOutOfOrderAppended = 0;
  /** How far behind the head's newest sample a float sample may arrive (0: in order only). Assignable, like limits. */
  outOfOrderWindowMs: number;
  /** The oldest sample appended while a sliced truncation runs (it recomputes `mint` at its end). */
  private lowSinceTruncate = Infinity;
  readonly maxFutureMs: number;
  readonly now: () => number;
  /** Limits on new series; replay is exempt. Assignable so a running server can change them. */
  limits: SeriesLimits;
  /** New series refused, by limit. */
  readonly limitRefusals = new LimitRefusals();
  /** The decoded-chunk cache's entries for closed chunks, by chunk (the open chunk is never cached). */
  private readonly decoded = new Map<unknown, DecodedChunk>();
  private readonly decodedChunks: DecodedChunkCache | undefined;
  /** How queries open a chunk: closed ones through the decoded-chunk cache, if there is one. */
  readonly openChunk: ChunkOpener | undefined;

  constructor(opts: HeadOptions = {}) {
    const cache = opts.decodedChunks?.enabled ? opts.decodedChunks : undefined;
    this.decodedChunks = cache;
    // A chunk before minValidTime is being cut into a block or already gone (a paced query may still
    // hold it): read as it is, so truncation leaves no entry behind.
    if (cache !== undefined)
      this.openChunk = (c) => (c instanceof ClosedChunk && c.maxt >= this.minValidTime ? openCached(cache, this.decoded, c, c) : c.iterator());
    this.limits = opts.limits ?? NO_SERIES_LIMITS;
    this.chunkRange = opts.chunkRange ?? DEFAULT_CHUNK_RANGE;
    this.samplesPerChunk = opts.samplesPerChunk ?? 120;
    this.wal = opts.wal;
    this.maxFutureMs = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
    this.now = opts.now ?? Date.now;
    this.outOfOrderWindowMs = opts.outOfOrderWindowMs ?? 0;
  }

  /**
   * Whether a float sample at `t`, at or before its series' latest, goes to the out-of-order
   * buffer: within the window of the head's newest time, and the series holds no native
   * histograms (those stay in order only, as the block cut re-encodes floats alone).
   */
  acceptsOutOfOrder(s: MemSeries, t: number): boolean {
    return this.outOfOrderWindowMs > 0 && s.histChunks.length === 0 && s.lastH === undefined && t >= this.maxt - this.outOfOrderWindowMs;
  }

  /** The float value the series holds at `t` (in order or in its out-of-order buffer), or undefined. */
  storedValueAt(s: MemSeries, t: number): number | undefined {
    return s.ooo?.valueAt(t) ?? inOrderValueAt(s.inOrderChunksIn(t, t), t);
  }

  /**
   * Puts a float sample at or before its series' latest into the series' out-of-order buffer: for a
   * commit, the window was checked on append; on replay the WAL already acknowledged it. A sample
   * the blocks own (before minValidTime), a conflicting duplicate, or one for a series that holds
   * histograms is dropped and counted as refused; an exact resend changes nothing.
   */
  private appendOutOfOrder(s: MemSeries, t: number, v: number): void {
    if (t < this.minValidTime || s.histChunks.length > 0) {
      this.samplesOutOfOrder++;
      return;
    }
    const meets = oooConflict(this.storedValueAt(s, t), v);
    if (meets === 'same') return;
    if (meets === 'conflict') {
      this.samplesOutOfOrder++;
      return;
    }
    (s.ooo ??= new OooSamples()).insert(t, v);
    this.samplesOutOfOrderAppended++;
    this.appended(t);
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
    const s = new MemSeries(ref ?? ++this.lastRef, labels, key);
    if (s.ref > this.lastRef) this.lastRef = s.ref;
    this.byRef.set(s.ref, s);
    this.byKey.set(key, s);
    this.postings.add(s.ref, labels);
    return s;
  }

  /** Appends one sample that was already checked, cutting a new chunk when the current one is full. */
  appendChecked(s: MemSeries, t: number, v: number, h?: FloatHistogram): void {
    if (t <= s.lastT) {
      // Appended out of order within the window, or another appender committed a later sample
      // between this one's append and commit.
      if (h === undefined && this.outOfOrderWindowMs > 0) this.appendOutOfOrder(s, t, v);
      else this.samplesOutOfOrder++;
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
    this.appended(t);
  }

  /** Widens the head's time range (and the low mark since the last truncation) to `t` and counts the sample. */
  private appended(t: number): void {
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
    this.appended(t);
  }

  /** Moves a full chunk's bytes into the arena. */
  private close(a: XorEncoder): ClosedChunk {
    const { page, offset, length } = this.arena.store(a.bytesView(), a.byteLength);
    return new ClosedChunk(a.mint, a.maxt, page, offset, length);
  }

  /** Sample buffers of finished appenders, reused so a steady stream of batches makes no garbage. */
  readonly spareBuffers: Array<SpareSamples<MemSeries>> = [];

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
    // A typed array, grown by doubling: after a full flush every series goes, and a plain array's
    // growth steps would be that many megabytes more allocated straight into the old generation.
    let removed = new Float64Array(1024);
    let removedCount = 0;
    // Map iteration visits series created during the pass as well.
    for (const s of this.byRef.values()) {
      // An active chunk wholly before `t` is in the block (copied into the flush's image) and the
      // fence has kept samples out of it since: dropped as it is, not sealed into the arena first.
      const a = s.active;
      if (a !== undefined && a.count > 0 && a.maxt < t) s.active = undefined;
      let n = 0;
      while (n < s.closed.length && s.closed[n]!.maxt < t) n++;
      if (n > 0) {
        if (this.decoded.size > 0) for (let i = 0; i < n; i++) this.decodedChunks!.drop(this.decoded, s.closed[i]);
        s.closed = s.closed.slice(n);
      }
      let hn = 0;
      while (hn < s.histChunks.length && s.histChunks[hn]!.maxt < t) hn++;
      if (hn > 0) {
        if (hn === s.histChunks.length) s.histOpen = false;
        s.histChunks = s.histChunks.slice(hn);
      }
      s.ooo?.dropBefore(t);
      if (s.empty) {
        // Gone from lookups at once, so an append during the pass creates a fresh series instead
        // of writing into one that is about to leave the index.
        this.byRef.delete(s.ref);
        this.byKey.delete(s.key);
        if (removedCount === removed.length) {
          const grown = new Float64Array(removed.length * 2);
          grown.set(removed);
          removed = grown;
        }
        removed[removedCount++] = s.ref;
      } else mint = Math.min(mint, s.mint);
      crashPoint('compactHead.seriesTruncated');
      if (slicer.due()) await slicer.tick();
    }
    // Queries skip ids the map no longer has, so postings may lag behind while this runs.
    await this.postings.removeSliced(removed.subarray(0, removedCount), slicer);
    // The ranking would otherwise keep the dropped series in memory until its next build.
    if (removedCount > 0) this.labelOrder.reset();
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
      this.byKey.delete(s.key);
      this.postings.removeOne(s.ref, s.labels);
    }
  }

  /** Loads a WAL record during replay, skipping what blocks already hold. */
  replaySample(ref: number, t: number, v: number): void {
    const s = this.byRef.get(ref);
    if (!s || t < this.minValidTime) return;
    // Whatever the window is now: the WAL holds only what was acknowledged.
    if (t <= s.lastT) this.appendOutOfOrder(s, t, v);
    else this.appendChecked(s, t, v);
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

/** A batch of samples for the head; checks order on append, logs to the WAL and applies on commit. */
class HeadAppender implements Appender {
  private readonly head: Head;
  private readonly wal: Wal | undefined;
  private readonly id = nextBatchId++;
  private readonly batch: BatchSamples<MemSeries>;
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
    this.batch = new BatchSamples(head.spareBuffers);
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    return this.add(ref, labels, t, v, undefined, false);
  }

  appendInOrder(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    return this.add(ref, labels, t, v, undefined, true);
  }

  /** Adds a native-histogram sample (logged in the WAL's histogram records on commit). */
  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram): SeriesRef {
    const problem = h.validate();
    if (problem !== undefined) throw new StorageError('invalid_argument', `${problem} for ${formatLabels(labels)}`);
    return this.add(ref, labels, t, NaN, h, false);
  }

  private add(ref: SeriesRef, labels: Labels, t: number, v: number, h: FloatHistogram | undefined, inOrderOnly: boolean): SeriesRef {
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
      s.batchHadHistogram = false;
    }
    if (t <= s.batchT) {
      // A resend of what we have: not an error.
      if (t === s.batchT && (h === undefined ? s.batchH === undefined && sameValue(v, s.batchV) : s.batchH !== undefined && h.equals(s.batchH))) return s.ref;
      if (t === s.batchT || h !== undefined || inOrderOnly || s.batchHadHistogram || !head.acceptsOutOfOrder(s, t)) throw orderRefusal(t, s.batchT, s.labels);
      // Within the out-of-order window: logged and applied like any sample; the batch's latest stays.
      const meets = oooConflict(head.storedValueAt(s, t), v);
      if (meets === 'same') return s.ref;
      if (meets === 'conflict') throw orderRefusal(t, t, s.labels);
      this.batch.push(s, t, v);
      return s.ref;
    }
    s.batchT = t;
    s.batchV = v;
    s.batchH = h;
    if (h !== undefined) {
      s.batchHadHistogram = true;
      (this.hists ??= new Map()).set(this.batch.n, h);
    }
    this.batch.push(s, t, v);
    return s.ref;
  }

  commit(): void {
    const { head, wal } = this;
    const { n, series, ts, vs } = this.batch;
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
      } else logMixedBatch(rw, n, series, ts, vs, hists);
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
    this.batch.release();
  }
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
    return runSync(this.selectPaced(hints, matchers, NEVER_PAUSE));
  }

  /**
   * {@link select} in slices: matching and the sort by labels yield when the pacer is due. Each
   * series' chunks are listed once, for the narrower of the querier's and the hints' ranges (a
   * series with none there is not selected).
   */
  *selectPaced(hints: SelectHints, matchers: readonly Matcher[], pace: Pacer): Work<SeriesSet> {
    const mint = Math.max(this.mint, hints.start);
    const maxt = Math.min(this.maxt, hints.end);
    const matched = yield* this.matchingPaced(matchers, pace, (s) => s.latestIn(mint, maxt) || s.mayHaveSamplesIn(mint, maxt));
    yield* this.head.labelOrder.sortPaced(matched, pace);
    const list: Series[] = [];
    for (let i = 0; i < matched.length && !(hints.limit && list.length >= hints.limit); i++) {
      if ((i & 1023) === 1023 && pace.due()) {
        pace.check();
        yield;
      }
      const s = matched[i]!;
      // The newest sample is kept apart from the chunks: nothing to decode for it.
      if (hints.latestOnly === true && s.latestIn(mint, maxt)) {
        list.push(new LatestSampleSeries(s.labels, s.lastT, s.lastV));
        continue;
      }
      const chunks = s.chunksIn(mint, maxt);
      if (chunks.length > 0) list.push(new ChunkSeries(s.labels, chunks, mint, maxt, this.head.openChunk));
    }
    return new ArraySeriesSet(list);
  }

  /** The series matching `matchers` that `keep` takes (default: those with samples in range), in slices. */
  private *matchingPaced(
    matchers: readonly Matcher[],
    pace: Pacer,
    keep: (s: MemSeries) => boolean = (s) => s.chunksIn(this.mint, this.maxt).length > 0,
  ): Work<MemSeries[]> {
    const out: MemSeries[] = [];
    if (!this.overlaps()) return out;
    const refs = this.head.selectRefs(matchers);
    for (let i = 0; i < refs.length; i++) {
      if ((i & 1023) === 1023 && pace.due()) {
        pace.check();
        yield;
      }
      const s = this.head.series(refs[i]!);
      if (s !== undefined && keep(s)) out.push(s);
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
