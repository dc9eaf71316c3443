/**
 * The storage of `vigil agent`: a WAL and, in memory, one small record per series (its ref, labels
 * and newest sample), nothing else. Samples are only logged, in the TSDB's own WAL format, so the
 * remote_write sender follows this WAL exactly as it follows the TSDB's; there are no chunks, no
 * index and no blocks, so memory grows with the number of live series, never with samples.
 *
 * The WAL is checkpointed every `truncateIntervalMs`: segments every remote_write queue has sent
 * past (the sender's hold, `holdWal`, bounded by each queue's `wal_retention_size`) are condensed
 * into a checkpoint of series records only, since their samples have been delivered. Series no
 * sample has reached for `idleSeriesMs` leave memory then; their record stays in checkpoints until
 * the queues are past the last segment that may hold their samples, so a restart can still resolve
 * every ref the queues have yet to send.
 */
import { formatLabels, validateLabels, type Labels } from '../../core/model/labels.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { LabelsHashMap } from './labels_hash.js';
import { AgentAppender } from './agent_appender.js';
import { StorageError } from '../../core/errors.js';
import { LimitRefusals } from '../../core/limits/refusals.js';
import { isStaleNaN } from '../../core/model/value.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import { BACKGROUND_SLICE_MS, TimeSlicer } from '../../core/util/pace.js';
import type { Appendable, Appender } from '../storage/interface.js';
import { DEFAULT_MAX_FUTURE_MS } from './head.js';
import { checkNewSeries, metricName, NO_SERIES_LIMITS, SeriesLimitError, type SeriesLimits } from './series_limits.js';
import { Wal, walSegments, type WalReplayStats } from './wal.js';

/** Options for {@link AgentStorage}. */
export interface AgentStorageOptions {
  /** The WAL's directory (`<data>/wal`, where the sender looks for it). */
  walDir: string;
  logger?: Logger;
  now?: () => number;
  /** Refuse samples stamped more than this many ms ahead of the clock (default: an hour). */
  maxFutureMs?: number;
  seriesLimits?: SeriesLimits;
  /** How often sent segments are checkpointed away (default: a minute; 0: only when asked). */
  truncateIntervalMs?: number;
  /** A series with no sample for this long leaves memory at the next truncation (default: 10 minutes). */
  idleSeriesMs?: number;
  /** WAL segment size (default 128 MiB, as the TSDB's). */
  segmentBytes?: number;
  /**
   * Told the series whose records the WAL no longer holds (ref → the segment being written when
   * they left memory), once every reader holding the WAL is past that segment: readers may forget them.
   */
  onSeriesGone?: (gone: ReadonlyMap<number, number>) => void;
}

/** One series: what an append needs to check order and to log it, and the newest value (OTLP deltas read it). */
export class AgentSeries {
  lastT = -Infinity;
  lastV = 0;
  /** The newest sample when it is a native histogram (`lastV` is then NaN). */
  lastH: FloatHistogram | undefined = undefined;
  /** True once the WAL has a record of this series. */
  logged = false;
  /** The appender that last touched the series, and its view of the newest sample. */
  batch = 0;
  batchT = -Infinity;
  batchV = 0;
  batchH: FloatHistogram | undefined = undefined;
  constructor(
    readonly ref: number,
    readonly labels: Labels,
  ) {}
}

/** Counters for self-monitoring. */
export interface AgentStats {
  series: number;
  samplesAppended: number;
  samplesOutOfOrder: number;
  seriesRemoved: number;
  truncations: number;
  lastTruncateSeconds: number;
  walBytes: number;
  walReplay: WalReplayStats | undefined;
}

/** The newest sample a store holds for a series, as OTLP delta conversion reads it. */
export interface LatestSample {
  t: number;
  v: number;
  /** A native histogram (`v` NaN). */
  h?: FloatHistogram;
}

/** Samples go to the WAL only; see the module comment. */
export class AgentStorage implements Appendable {
  readonly wal: Wal;
  private readonly byRef = new Map<number, AgentSeries>();
  /** Series by a hash of their labels: a key string per series would cost more than the series. */
  private readonly byHash = new LabelsHashMap<AgentSeries>();
  /** Series per metric name, for max_global_series_per_metric. */
  private readonly perMetric = new Map<string, number>();
  /** Refs of series that left memory, and the WAL segment being written when they did. */
  private readonly removed = new Map<number, number>();
  private lastRef = 0;
  /** The newest timestamp appended (the sender's `highest_timestamp`). */
  maxt = -Infinity;
  readonly limitRefusals = new LimitRefusals();
  limits: SeriesLimits;
  readonly maxFutureMs: number;
  readonly now: () => number;
  private readonly log: Logger;
  private readonly truncateIntervalMs: number;
  private readonly idleSeriesMs: number;
  private readonly onSeriesGone: AgentStorageOptions['onSeriesGone'];
  private timer: NodeJS.Timeout | undefined;
  private truncating: Promise<void> | undefined;
  private started = false;
  private readonly counters = { samplesAppended: 0, samplesOutOfOrder: 0, seriesRemoved: 0, truncations: 0, lastTruncateSeconds: 0 };
  private replayStats: WalReplayStats | undefined;

  constructor(opts: AgentStorageOptions) {
    this.log = opts.logger ?? nopLogger;
    this.wal = new Wal(opts.walDir, { warn: (msg) => this.log.warn(msg), ...(opts.segmentBytes ? { segmentBytes: opts.segmentBytes } : {}) });
    this.now = opts.now ?? Date.now;
    this.maxFutureMs = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
    this.limits = opts.seriesLimits ?? NO_SERIES_LIMITS;
    this.truncateIntervalMs = opts.truncateIntervalMs ?? 60_000;
    this.idleSeriesMs = opts.idleSeriesMs ?? 10 * 60_000;
    this.onSeriesGone = opts.onSeriesGone;
  }

  /** The WAL's directory, for the remote_write sender. */
  get walDir(): string {
    return this.wal.dir;
  }

  get walSegment(): number {
    return this.wal.currentSegment;
  }

  get numSeries(): number {
    return this.byRef.size;
  }

  /** Keeps segments from the one `retainFrom` returns out of checkpoints (the sender's unsent ones). */
  holdWal(retainFrom: () => number | undefined): void {
    this.wal.retainFrom = retainFrom;
  }

  /** Replays the WAL (series and each one's newest sample) and starts periodic truncation. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const began = performance.now();
    this.replayStats = this.wal.replay({
      series: (ref, labels) => {
        const s = this.create(labels, ref);
        s.logged = true;
        if (s.ref !== ref) this.byRef.set(ref, s); // the same labels logged under two refs
      },
      sample: (ref, t, v) => {
        const s = this.byRef.get(ref);
        if (s !== undefined && t > s.lastT) this.setLast(s, t, v);
      },
      histogram: (ref, t, h) => {
        const s = this.byRef.get(ref);
        if (s !== undefined && t > s.lastT) this.setLast(s, t, NaN, h);
      },
    });
    this.log.info('WAL replayed', { series: this.replayStats.series, samples: this.replayStats.samples, ms: Math.round(performance.now() - began) });
    if (this.truncateIntervalMs > 0) {
      this.timer = setInterval(() => void this.truncate(), this.truncateIntervalMs);
      this.timer.unref();
    }
  }

  appender(): Appender {
    return new AgentAppender(this);
  }

  /** The newest sample of exactly `labels` at or before `t` (within `lookbackMs`), for OTLP delta totals. */
  latestSample(labels: Labels, t: number, lookbackMs: number): LatestSample | undefined {
    const s = this.byHash.get(labels);
    if (s === undefined || s.lastT > t || s.lastT < t - lookbackMs) return undefined;
    if (s.lastH !== undefined) return isStaleNaN(s.lastH.sum) ? undefined : { t: s.lastT, v: NaN, h: s.lastH };
    if (isStaleNaN(s.lastV)) return undefined;
    return { t: s.lastT, v: s.lastV };
  }

  /** @internal The series with `ref`, if still in memory. */
  series(ref: number): AgentSeries | undefined {
    return this.byRef.get(ref);
  }

  /** @internal Finds or creates the series of `labels`, checking the limits for a new one. */
  getOrCreate(labels: Labels): { series: AgentSeries; created: boolean } {
    const found = this.byHash.get(labels);
    if (found) return { series: found, created: false };
    try {
      checkNewSeries(labels, this.limits, this.byRef.size, () => this.perMetric.get(metricName(labels)) ?? 0);
    } catch (err) {
      if (err instanceof SeriesLimitError) this.limitRefusals.add(err.limit);
      throw err;
    }
    return { series: this.create(labels), created: true };
  }

  private create(labels: Labels, ref?: number): AgentSeries {
    const found = this.byHash.get(labels);
    if (found) return found;
    const problem = validateLabels(labels);
    if (problem) throw new StorageError('invalid_series', `${problem}: ${formatLabels(labels)}`);
    const s = new AgentSeries(ref ?? ++this.lastRef, labels);
    if (s.ref > this.lastRef) this.lastRef = s.ref;
    this.byRef.set(s.ref, s);
    this.byHash.add(s);
    const name = metricName(labels);
    this.perMetric.set(name, (this.perMetric.get(name) ?? 0) + 1);
    return s;
  }

  /** @internal Takes back a series a rolled-back batch created, unless it was logged meanwhile. */
  drop(s: AgentSeries): void {
    if (s.logged || this.byRef.get(s.ref) !== s) return;
    this.forget(s);
  }

  private forget(s: AgentSeries): void {
    this.byRef.delete(s.ref);
    this.byHash.delete(s);
    const name = metricName(s.labels);
    const n = (this.perMetric.get(name) ?? 1) - 1;
    if (n > 0) this.perMetric.set(name, n);
    else this.perMetric.delete(name);
  }

  /** @internal Records a committed sample. */
  setLast(s: AgentSeries, t: number, v: number, h?: FloatHistogram): void {
    s.lastT = t;
    s.lastV = v;
    s.lastH = h;
    if (t > this.maxt) this.maxt = t;
  }

  /** @internal */
  countAppended(n: number, outOfOrder: number): void {
    this.counters.samplesAppended += n;
    this.counters.samplesOutOfOrder += outOfOrder;
  }

  /**
   * Lets idle series go and checkpoints the segments every queue has sent past (series records
   * only: their samples are delivered). One at a time; errors are logged and retried next round.
   */
  truncate(): Promise<void> {
    this.truncating ??= this.truncateNow()
      .catch((err: unknown) => this.log.error('agent WAL truncation failed; retried at the next round', { err }))
      .finally(() => (this.truncating = undefined));
    return this.truncating;
  }

  private async truncateNow(): Promise<void> {
    const began = performance.now();
    const idleBefore = this.now() - this.idleSeriesMs;
    const segment = this.wal.currentSegment;
    for (const s of this.byRef.values()) {
      // A series an open batch is using stays: its commit would log samples under a forgotten ref.
      if (s.lastT >= idleBefore || s.batch !== 0 || (s.lastT === -Infinity && !s.logged)) continue;
      this.forget(s);
      this.removed.set(s.ref, segment);
      this.counters.seriesRemoved++;
    }
    // A queue still in the oldest segment (its receiver is behind or down) leaves nothing to
    // condense: skip, rather than open a segment each round. A queue caught up with the segment
    // being written lets the truncation start a new one, which the next round can condense.
    const held = this.wal.retainFrom?.();
    const oldest = walSegments(this.wal.dir)[0];
    if (oldest === undefined || (held !== undefined && held <= oldest && held < this.wal.currentSegment)) return;
    const upTo = await this.wal.truncate(
      Infinity,
      (ref, last) => this.byRef.has(ref) || (this.removed.get(ref) ?? -1) > last,
      new TimeSlicer({ sliceMs: BACKGROUND_SLICE_MS }),
    );
    if (upTo === undefined) return;
    const gone = new Map<number, number>();
    for (const [ref, seg] of this.removed)
      if (seg <= upTo) {
        gone.set(ref, seg);
        this.removed.delete(ref);
      }
    if (gone.size > 0) this.onSeriesGone?.(gone);
    this.counters.truncations++;
    this.counters.lastTruncateSeconds = (performance.now() - began) / 1000;
  }

  /** Why writes are being refused (disk full, I/O error), or undefined while they succeed. */
  writeProblem(): string | undefined {
    return this.wal.writeProblem();
  }

  stats(): AgentStats {
    return { series: this.byRef.size, ...this.counters, walBytes: this.wal.bytesWritten, walReplay: this.replayStats };
  }

  /** Stops truncation (waiting for one in flight) and closes the WAL. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.truncating;
    this.wal.close();
  }
}
