/**
 * One scrape loop per target, after Prometheus' `scrapeLoop`: fetch, parse, relabel, append the
 * whole scrape in one appender batch and commit, or roll back on any failure so nothing is
 * half-written. Series refs are cached by the raw series text, so a series seen before costs a map
 * lookup and no label decoding. Series that disappear, and every series when the scrape fails or
 * the target goes away, get a staleness marker.
 */
import type { Labels } from '../../core/model/labels.js';
import { STALE_NAN } from '../../core/model/value.js';
import { MetadataStore, type MetricMetadata } from '../metadata.js';
import { StorageError } from '../../core/errors.js';
import type { Appendable, Appender, SeriesRef } from '../storage/interface.js';
import type { ExemplarInput, ExemplarStorage } from '../exemplars/storage.js';
import { nopLogger, type Logger } from '../../core/util/log.js';
import {
  createParser,
  formatForContentType,
  SCRAPE_ACCEPT_HEADER,
  type ExpositionFormat,
  type ExpositionParser,
  type ProtobufParserOptions,
} from './parser/index.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { BucketLimitError, fitHistogram, type HistogramLimits } from './histogram_limits.js';
import type { Target } from './target.js';
import { ScrapeTimeAligner } from './align.js';
import type { ScrapeTransport } from './transport.js';
import { ScrapeError } from './scrape_error.js';
import { reportLabels, SampleLabeler, type LabelSettings } from './sample_labels.js';

export { ScrapeError };

/** Target health as the targets API reports it. */
export type TargetHealth = 'up' | 'down' | 'unknown';

/** The per-pool settings a loop needs. */
export interface LoopSettings extends LabelSettings {
  readonly honorTimestamps: boolean;
  readonly sampleLimit: number;
  readonly bodySizeLimit: number;
  /** The Accept header, from `scrape_protocols`; default: Prometheus' default protocols. */
  readonly acceptHeader?: string;
  /** The format of a response without a known Content-Type (`fallback_scrape_protocol`); default: Prometheus text. */
  readonly fallbackFormat?: ExpositionFormat;
  /** What becomes of histograms (native ones of protobuf bodies; classic ones converted to NHCB); default: classic series only. */
  readonly histograms?: ProtobufParserOptions;
  /** The resolution native histograms are stored at; default: as scraped. */
  readonly histogramLimits?: HistogramLimits;
}

/** Counters shared by the loops of a pool (and summed over pools for self-monitoring). */
export class ScrapeStats {
  scrapes = 0;
  failed = 0;
  exceededSampleLimit = 0;
  exceededBodySizeLimit = 0;
  samplesOutOfOrder = 0;
  samplesDuplicate = 0;
  samplesOutOfBounds = 0;
  /** Scheduled scrapes skipped because the process fell more than an interval behind. */
  missed = 0;
}

/** Options for {@link ScrapeLoop}. */
export interface ScrapeLoopOptions {
  readonly target: Target;
  readonly settings: LoopSettings;
  readonly appendable: Appendable;
  readonly transport: ScrapeTransport;
  /** Clock for sample timestamps, in ms. Default `Date.now`. */
  readonly now?: () => number;
  readonly logger?: Logger;
  /** Also receives `# HELP/# TYPE/# UNIT` (for `/api/v1/metadata`). */
  readonly sharedMetadata?: MetadataStore;
  readonly stats?: ScrapeStats;
  /** Mixed into the offset hash, so two Vigil replicas need not scrape in lockstep. */
  readonly offsetSeed?: number;
  /** Where the samples' OpenMetrics exemplars go, once the scrape is committed; without it they are ignored. */
  readonly exemplars?: ExemplarStorage;
}

interface CacheEntry {
  ref: SeriesRef;
  /** Final labels; undefined when metric relabeling dropped the series. */
  labels: Labels | undefined;
  /** Scrape iteration in which the series was last seen. */
  lastIter: number;
  /**
   * Where the series' key was last seen: the offsets of the key in the body of scrape `keyIter`.
   * The body itself is kept once, by the order list of that scrape, not by every entry: a pointer
   * to each new body from 10,000 old entries is work for every young-generation collection.
   */
  keyIter: number;
  keyStart: number;
  keyEnd: number;
}

/**
 * A list of cache entries that keeps its array from scrape to scrape: a fresh array of 10,000
 * entries per scrape, grown by doubling, is garbage the young generation has to copy or sweep.
 */
class EntryList {
  items: CacheEntry[] = [];
  n = 0;
  /** The body the entries were read from (order lists only). */
  body: Buffer | undefined;

  push(e: CacheEntry): void {
    this.items[this.n++] = e;
  }

  /** Forgets the entries; the array is kept for the next scrape, and cut to the last count so it pins nothing more. */
  clear(): void {
    if (this.items.length > this.n) this.items.length = this.n;
    this.n = 0;
    this.body = undefined;
  }
}

interface StaleSeries {
  readonly ref: SeriesRef;
  readonly labels: Labels;
}

/** State a loop can hand to its replacement on reload, so no staleness marker is written by mistake. */
export interface LoopState {
  readonly seen: readonly StaleSeries[];
  readonly lastTs: number;
}

const REPORT_NAMES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'] as const;
const STORAGE_SKIPPABLE = new Set(['out_of_order', 'duplicate_sample', 'too_old', 'too_new']);
/** Cache entries unseen for this many scrapes are forgotten, bounding memory under series churn. */
const CACHE_TTL_SCRAPES = 10;

/**
 * The Prometheus scrape offset: a stable point within the interval, derived from the target hash,
 * so scrapes of many targets spread evenly and each target keeps its slot across restarts.
 */
export function scrapeOffset(hash: number, seed: number, intervalMs: number): number {
  return ((hash ^ seed) >>> 0) % intervalMs;
}

/** One target's scrape loop. */
export class ScrapeLoop {
  readonly target: Target;
  /** `# HELP/# TYPE/# UNIT` from this target's last scrapes. */
  readonly metadata = new MetadataStore(10_000);
  health: TargetHealth = 'unknown';
  lastError = '';
  /** Start of the last scrape in ms (0: never). */
  lastScrape = 0;
  lastScrapeDurationMs = 0;

  private readonly settings: LoopSettings;
  private readonly appendable: Appendable;
  private readonly transport: ScrapeTransport;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly sharedMetadata: MetadataStore | undefined;
  private readonly exemplarStorage: ExemplarStorage | undefined;
  /** Exemplars of the scrape being appended. */
  private exemplars: ExemplarInput[] = [];
  private readonly stats: ScrapeStats;
  private readonly offsetMs: number;
  private readonly aligner: ScrapeTimeAligner;
  private readonly cache = new Map<string, CacheEntry>();
  /**
   * The cache entries in the order the last body listed them. Targets list their series in the
   * same order every time, so the entry at the same position is checked first, by comparing bytes,
   * before the map is consulted with a key string.
   */
  private order = new EntryList();
  /** The list the next scrape fills (the one before last), swapped with {@link order} each scrape. */
  private nextOrder = new EntryList();
  /** The labels of a series new to the cache (target labels, metric relabeling, limits). */
  private readonly labeler: SampleLabeler;
  /** This loop's two body buffers (see {@link ownBody}). */
  private readonly bodyBufs: Array<Buffer | undefined> = [undefined, undefined];
  private readonly reportLabels: Labels[];
  private readonly reportRefs: SeriesRef[] = [0, 0, 0, 0, 0];
  private iter = 0;
  /** Series appended by the last successful scrape, for staleness. */
  private prevSeen = new EntryList();
  /** The list the next scrape fills, swapped with {@link prevSeen} after a successful scrape. */
  private nextSeen = new EntryList();
  /** Series written by a predecessor loop (reload) whose cache this loop does not share. */
  private inherited: readonly StaleSeries[] = [];
  private lastTs = -Infinity;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private nextAt = 0;
  private inFlight: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private stopping: Promise<void> | undefined;

  constructor(opts: ScrapeLoopOptions) {
    this.target = opts.target;
    this.settings = opts.settings;
    this.appendable = opts.appendable;
    this.transport = opts.transport;
    this.now = opts.now ?? Date.now;
    this.log = (opts.logger ?? nopLogger).child({ target: opts.target.url });
    this.sharedMetadata = opts.sharedMetadata;
    this.exemplarStorage = opts.exemplars;
    this.stats = opts.stats ?? new ScrapeStats();
    this.aligner = new ScrapeTimeAligner(opts.target.intervalMs);
    this.offsetMs = scrapeOffset(opts.target.hash, opts.offsetSeed ?? 0, opts.target.intervalMs);
    this.labeler = new SampleLabeler(opts.target.labels, opts.settings);
    this.reportLabels = REPORT_NAMES.map((n) => reportLabels(n, opts.target.labels));
  }

  /** Where in each interval this target is scraped, in ms after a multiple of the interval. */
  get offset(): number {
    return this.offsetMs;
  }

  /** Takes over the staleness state of the loop this one replaces (same target, new config). */
  inherit(state: LoopState): void {
    this.inherited = state.seen;
    this.lastTs = state.lastTs;
  }

  /** The state to hand to a replacement loop. */
  state(): LoopState {
    const seen: StaleSeries[] = [...this.inherited];
    const prev = this.prevSeen;
    for (let i = 0; i < prev.n; i++) {
      const e = prev.items[i]!;
      if (e.labels) seen.push({ ref: e.ref, labels: e.labels });
    }
    return { seen, lastTs: this.lastTs };
  }

  /** Starts scraping on the target's slot in the interval. Idempotent. */
  start(): void {
    if (this.running || this.stopping) return;
    this.running = true;
    const interval = this.target.intervalMs;
    const now = Date.now();
    // The next instant congruent to the offset modulo the interval, as Prometheus aligns scrapes.
    this.nextAt = now - (now % interval) + this.offsetMs;
    if (this.nextAt <= now) this.nextAt += interval;
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    const interval = this.target.intervalMs;
    const now = Date.now();
    if (now - this.nextAt > interval) {
      // The event loop fell behind by more than an interval: skip the slots, keep the phase.
      const behind = Math.floor((now - this.nextAt) / interval);
      this.stats.missed += behind;
      this.nextAt += behind * interval;
    }
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.nextAt += interval;
        this.scrapeOnce()
          .catch((err: unknown) => this.log.error('scrape loop error', { err }))
          .finally(() => this.schedule());
      },
      Math.max(0, this.nextAt - now),
    );
    this.timer.unref();
  }

  /**
   * Stops the loop: cancels a running scrape and, when `stale` (the target went away), writes
   * staleness markers for every series of the last scrape. Idempotent; bounded by the scrape
   * being aborted.
   */
  stop(stale = true): Promise<void> {
    this.stopping ??= (async () => {
      this.running = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.abort?.abort();
      await this.inFlight;
      if (stale) this.writeEndOfRunStaleness();
    })();
    return this.stopping;
  }

  /** Scrapes once now. Concurrent calls share the scrape in flight. */
  scrapeOnce(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    this.inFlight ??= this.doScrape().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async doScrape(): Promise<void> {
    const start = Math.round(this.now());
    const stamp = this.aligner.stamp(start);
    // Timestamps must increase even if a test clock or a clock step says otherwise.
    const ts = stamp > this.lastTs ? stamp : this.lastTs + 1;
    const abort = (this.abort = new AbortController());
    const timer = setTimeout(() => abort.abort(), this.target.timeoutMs);
    let body: Buffer;
    let contentType: string | undefined;
    this.stats.scrapes++;
    try {
      const res = await this.transport.fetch({
        url: this.target.url,
        headers: {
          accept: this.settings.acceptHeader ?? SCRAPE_ACCEPT_HEADER,
          'user-agent': 'Vigil/0.1',
          'x-prometheus-scrape-timeout-seconds': String(this.target.timeoutMs / 1000),
        },
        signal: abort.signal,
        bodySizeLimit: this.settings.bodySizeLimit,
      });
      if (res.status !== 200) throw new ScrapeError('http', `server returned HTTP status ${res.status} ${res.statusText}`.trimEnd());
      body = res.body;
      contentType = res.contentType;
    } catch (err) {
      clearTimeout(timer);
      if ((err as { code?: string }).code === 'body_size_limit') this.stats.exceededBodySizeLimit++;
      if (this.stopping) return; // stopped mid-scrape: not the target's fault
      this.finish(ts, start, err as Error, 0, 0, 0);
      return;
    } finally {
      this.abort = undefined;
    }
    clearTimeout(timer);
    const durationMs = Math.max(0, this.now() - start);
    this.appendScrape(this.ownBody(body), contentType, ts, durationMs);
  }

  /**
   * The body copied into whichever of this loop's two buffers does not hold the previous scrape's
   * body (which the parser reads beside it). The body is kept until the next scrape, longer than
   * the young generation keeps anything: kept as received, every body became old-generation
   * garbage at the next scrape, and with 40 targets of 40 KB `vigil agent`'s memory crept up by
   * 0.4 MiB/s until a major collection. Two buffers per loop are reused instead, and Node's buffer
   * dies young. A buffer four times larger than the body is given back.
   */
  private ownBody(b: Buffer): Buffer {
    const prev = this.order.body?.buffer;
    const i = this.bodyBufs[0] !== undefined && this.bodyBufs[0].buffer === prev ? 1 : 0;
    let buf = this.bodyBufs[i];
    if (buf === undefined || buf.length < b.length || buf.length > 4 * b.length + 65_536)
      buf = this.bodyBufs[i] = Buffer.allocUnsafeSlow(b.length + (b.length >>> 3) + 1024);
    b.copy(buf);
    return buf.subarray(0, b.length);
  }

  /** Parses and appends one body synchronously: one batch, committed whole or not at all. */
  private appendScrape(body: Buffer, contentType: string | undefined, ts: number, durationMs: number): void {
    const app = this.appendable.appender();
    const iter = ++this.iter;
    const counts = { scraped: 0, added: 0, seriesAdded: 0 };
    const seen = this.nextSeen;
    seen.clear();
    const md = new Map<string, MetricMetadata>();
    let limitErr: ScrapeError | undefined;
    this.exemplars = [];
    try {
      const p = createParser(body, formatForContentType(contentType, this.settings.fallbackFormat).format, this.settings.histograms);
      limitErr = this.appendSamples(body, p, app, ts, iter, counts, seen, md);
      if (limitErr) throw limitErr;
      this.writeStaleness(app, ts, iter, seen);
      this.appendReport(app, ts, durationMs, 1, counts.scraped, counts.added, counts.seriesAdded);
      app.commit();
    } catch (err) {
      app.rollback();
      this.finish(ts, ts, err as Error, counts.scraped, counts.added, counts.seriesAdded, durationMs);
      return;
    }
    this.storeExemplars();
    this.nextSeen = this.prevSeen;
    this.prevSeen = seen;
    this.inherited = [];
    this.lastTs = ts;
    this.health = 'up';
    this.lastError = '';
    this.lastScrape = ts;
    this.lastScrapeDurationMs = durationMs;
    // forEach rather than for-of: no [key, value] pair per family per scrape.
    md.forEach((m, family) => {
      // Unchanged metadata keeps its stored object: a new one per family per scrape, held until the
      // next scrape, is what young collections promote and old-generation marking then has to find.
      if (!sameMetadata(this.metadata.get(family), m)) this.metadata.set(family, m);
      if (this.sharedMetadata && !sameMetadata(this.sharedMetadata.get(family), m)) this.sharedMetadata.set(family, m);
    });
    if (iter % CACHE_TTL_SCRAPES === 0) {
      // forEach: a for-of over the entries would make a [key, value] pair per cached series.
      this.cache.forEach((e, k, cache) => {
        if (iter - e.lastIter > CACHE_TTL_SCRAPES) cache.delete(k);
      });
    }
  }

  /** The sample loop. Returns a limit error to fail the scrape with, after counting everything. */
  private appendSamples(
    body: Buffer,
    p: ExpositionParser,
    app: Appender,
    ts: number,
    iter: number,
    counts: { scraped: number; added: number; seriesAdded: number },
    seen: EntryList,
    md: Map<string, MetricMetadata>,
  ): ScrapeError | undefined {
    const { honorTimestamps, sampleLimit } = this.settings;
    let limitErr: ScrapeError | undefined;
    const prevOrder = this.order;
    const order = this.nextOrder;
    order.clear();
    // Swapped before parsing: a failed scrape leaves the order of what it read, as it did before.
    this.order = order;
    this.nextOrder = prevOrder;
    order.body = body;
    const prevItems = prevOrder.items;
    const prevN = prevOrder.n;
    const prevBody = prevOrder.body;
    for (;;) {
      // Targets list their series in the same order every time: the entry at this position in the
      // previous body is offered to the parser, which then skips lexing a key with the same bytes.
      let e = counts.scraped < prevN ? prevItems[counts.scraped] : undefined;
      // Its offsets are in the previous body, or in this one if the series was already listed here.
      const keyBody = e === undefined ? undefined : e.keyIter === iter ? body : e.keyIter === iter - 1 ? prevBody : undefined;
      const kind = keyBody === undefined ? p.next() : p.nextExpecting(keyBody, e!.keyStart, e!.keyEnd);
      if (kind === 'eof') break;
      if (kind !== 'series' && kind !== 'histogram') {
        recordMetadata(p, kind, md);
        continue;
      }
      if (e === undefined || keyBody === undefined || !(p.seriesKnown() || p.seriesKeyEquals(keyBody, e.keyStart, e.keyEnd))) {
        const key = p.seriesKey();
        e = this.cache.get(key);
        if (e === undefined) {
          e = { ref: 0, labels: this.labeler.labels(p.labels()), lastIter: 0, keyIter: 0, keyStart: 0, keyEnd: 0 };
          this.cache.set(key, e);
          if (e.labels) counts.seriesAdded++;
        }
      }
      e.keyIter = iter;
      e.keyStart = p.seriesKeyStart();
      e.keyEnd = p.seriesKeyEnd();
      order.push(e);
      counts.scraped++;
      const labels = e.labels;
      if (labels === undefined) continue;
      counts.added++;
      if (sampleLimit > 0 && counts.added > sampleLimit) {
        // Keep counting so scrape_samples_post_metric_relabeling tells how far over the limit it was.
        limitErr ??= new ScrapeError('sample_limit', `sample limit exceeded (limit: ${sampleLimit})`);
        continue;
      }
      const pt = honorTimestamps ? p.timestamp() : undefined;
      try {
        e.ref = kind === 'series' ? app.append(e.ref, labels, pt ?? ts, p.value()) : this.appendHistogram(app, e.ref, labels, pt ?? ts, p.histogram());
      } catch (err) {
        if (!(err instanceof StorageError) || !STORAGE_SKIPPABLE.has(err.code)) throw err;
        this.countSkipped(err.code);
        continue;
      }
      if (this.exemplarStorage) {
        if (kind === 'histogram') {
          for (const ex of p.histogramExemplars()) this.exemplars.push({ seriesLabels: labels, labels: ex.labels, value: ex.value, ts: ex.ts ?? pt ?? ts });
        } else {
          const ex = p.exemplar();
          // Without its own timestamp an exemplar takes its sample's, as in Prometheus.
          if (ex) this.exemplars.push({ seriesLabels: labels, labels: ex.labels, value: ex.value, ts: ex.ts ?? pt ?? ts });
        }
      }
      // Series with their own timestamps get no staleness markers, as in Prometheus.
      if (pt === undefined && e.lastIter !== iter) seen.push(e);
      e.lastIter = iter;
    }
    if (limitErr) this.stats.exceededSampleLimit++;
    return limitErr;
  }

  /**
   * Stores the committed scrape's exemplars. Refused ones are counted by the storage; a failed
   * exemplar write loses only exemplars, so the scrape stays up and the failure is logged.
   */
  private storeExemplars(): void {
    if (this.exemplars.length === 0) return;
    try {
      this.exemplarStorage!.append(this.exemplars);
    } catch (err) {
      this.log.warn('storing exemplars failed', { err });
    }
    this.exemplars = [];
  }

  private appendHistogram(app: Appender, ref: SeriesRef, labels: Labels, ts: number, h: FloatHistogram): SeriesRef {
    return appendHistogram(app, ref, labels, ts, h, this.settings.histogramLimits);
  }

  private countSkipped(code: string): void {
    if (code === 'out_of_order') this.stats.samplesOutOfOrder++;
    else if (code === 'duplicate_sample') this.stats.samplesDuplicate++;
    else this.stats.samplesOutOfBounds++;
  }

  /** Staleness markers for series of the previous scrape that this one did not have. */
  private writeStaleness(app: Appender, ts: number, iter: number, seen: EntryList): void {
    const prev = this.prevSeen;
    for (let i = 0; i < prev.n; i++) {
      const e = prev.items[i]!;
      if (e.lastIter !== iter && e.labels) staleAppend(app, e.ref, e.labels, ts);
    }
    if (this.inherited.length > 0) {
      const now = new Set<string>();
      for (let i = 0; i < seen.n; i++) {
        const e = seen.items[i]!;
        if (e.labels) now.add(seriesId(e.labels));
      }
      for (const s of this.inherited) if (!now.has(seriesId(s.labels))) staleAppend(app, s.ref, s.labels, ts);
    }
  }

  private appendReport(app: Appender, ts: number, durationMs: number, up: number, scraped: number, added: number, seriesAdded: number): void {
    const values = [up, durationMs / 1000, scraped, added, seriesAdded];
    for (let k = 0; k < values.length; k++) {
      try {
        this.reportRefs[k] = app.append(this.reportRefs[k]!, this.reportLabels[k]!, ts, values[k]!);
      } catch (err) {
        // A head at its series limit refuses a new target's `up`; the scrape's own outcome still stands.
        if (!(err instanceof StorageError) || !(STORAGE_SKIPPABLE.has(err.code) || err.code === 'limit_exceeded')) throw err;
      }
    }
  }

  /** Records a failed scrape: stale markers for what the target had, `up` 0, health down. */
  private finish(
    ts: number,
    start: number,
    err: Error,
    scraped: number,
    added: number,
    seriesAdded: number,
    durationMs = Math.max(0, this.now() - start),
  ): void {
    this.stats.failed++;
    this.health = 'down';
    this.lastError = err.message;
    this.lastScrape = ts;
    this.lastScrapeDurationMs = durationMs;
    if (
      !(err instanceof ScrapeError) &&
      (err as { code?: string }).code !== 'bad_exposition' &&
      !err.message.startsWith('Get ') &&
      (err as { code?: string }).code !== 'body_size_limit'
    ) {
      this.log.warn('scrape failed', { err });
    } else {
      this.log.debug('scrape failed', { err: err.message });
    }
    const app = this.appendable.appender();
    try {
      this.staleAll(app, ts);
      for (const s of this.inherited) staleAppend(app, s.ref, s.labels, ts);
      this.appendReport(app, ts, durationMs, 0, scraped, added, seriesAdded);
      app.commit();
    } catch (err2) {
      app.rollback();
      this.log.error('cannot record a failed scrape', { err: err2 });
    }
    this.prevSeen.clear();
    this.inherited = [];
    this.lastTs = Math.max(this.lastTs, ts);
  }

  /** Staleness markers for every series of the last successful scrape. */
  private staleAll(app: Appender, ts: number): void {
    const prev = this.prevSeen;
    for (let i = 0; i < prev.n; i++) {
      const e = prev.items[i]!;
      if (e.labels) staleAppend(app, e.ref, e.labels, ts);
    }
  }

  /** The target went away: every series it had, and its report series, end now. */
  private writeEndOfRunStaleness(): void {
    if (this.lastTs === -Infinity) return;
    const now = Math.round(this.now());
    const ts = now > this.lastTs ? now : this.lastTs + 1;
    const app = this.appendable.appender();
    try {
      this.staleAll(app, ts);
      for (const s of this.inherited) staleAppend(app, s.ref, s.labels, ts);
      for (let k = 0; k < this.reportLabels.length; k++) staleAppend(app, this.reportRefs[k]!, this.reportLabels[k]!, ts);
      app.commit();
    } catch (err) {
      app.rollback();
      this.log.error('cannot write staleness markers for a removed target', { err });
    }
    this.prevSeen.clear();
    this.inherited = [];
  }
}

/** A native-histogram sample, brought within `limits` (a histogram past the bucket limit fails the scrape, naming it). */
function appendHistogram(app: Appender, ref: SeriesRef, labels: Labels, ts: number, h: FloatHistogram, limits: HistogramLimits | undefined): SeriesRef {
  if (limits) {
    try {
      h = fitHistogram(h, limits);
    } catch (err) {
      if (err instanceof BucketLimitError) throw new ScrapeError('bucket_limit', `${err.message} (limit: ${limits.bucketLimit})`);
      throw err;
    }
  }
  return app.appendHistogram(ref, labels, ts, h);
}

function staleAppend(app: Appender, ref: SeriesRef, labels: Labels, ts: number): void {
  try {
    app.append(ref, labels, ts, STALE_NAN);
  } catch (err) {
    // A series that already has a sample at or after ts (same labels scraped twice) needs no marker.
    if (!(err instanceof StorageError)) throw err;
  }
}

function seriesId(ls: Labels): string {
  let s = '';
  for (const l of ls) s += l.name + '\xff' + l.value + '\xfe';
  return s;
}

function sameMetadata(a: MetricMetadata | undefined, b: MetricMetadata): boolean {
  return a !== undefined && a.type === b.type && a.help === b.help && a.unit === b.unit;
}

function recordMetadata(p: ExpositionParser, kind: 'help' | 'type' | 'unit', md: Map<string, MetricMetadata>): void {
  const family = p.family();
  let m = md.get(family);
  if (!m) md.set(family, (m = { type: 'unknown', help: '', unit: '' }));
  if (kind === 'help') m.help = p.help();
  else if (kind === 'type') m.type = p.type();
  else m.unit = p.unit();
}
