/**
 * The remote_write 1.0 receiver: snappy-compressed protobuf WriteRequests appended to storage in
 * one batch each, so a bad request writes nothing. Series already seen are found by their raw label
 * bytes, before any string is decoded.
 */
import type { Labels } from '../../core/model/labels.js';
import { StorageError, VigilError } from '../../core/errors.js';
import type { Appendable, Appender } from '../storage/interface.js';
import { SnappyError } from '../../core/util/snappy.js';
import { DecompressPool } from './decompress_pool.js';
import type { MetadataStore } from '../metadata.js';
import { hashBytes, RawSeriesCache, type CachedSeries } from './series_cache.js';
import { TokenBucket } from '../../core/limits/token_bucket.js';
import { LimitRefusals } from '../../core/limits/refusals.js';
import { decodeLabels, decodeWriteRequest, ProtoError, type WriteRequestSink } from './proto.js';
import type { ExemplarInput, ExemplarStorage } from '../exemplars/storage.js';
import { decodeV2Request } from './v2.js';
import { decodeSeriesHistogram, InvalidHistogramError } from './histogram_decode.js';
import { FloatHistogram } from '../../core/model/histogram.js';

/**
 * Why a write was refused: the request is bad (the sender must not retry), or the server cannot
 * take it now (`overloaded`, `disk_full`: the sender retries).
 */
export type RemoteWriteErrorCode = 'bad_request' | 'overloaded' | 'disk_full' | 'rate_limited' | 'unsupported_media_type';

/**
 * Why a write was refused. `bad_request` is the client's fault; `overloaded` asks it to retry;
 * `rate_limited` asks it to come back after `retryAfterSec`.
 */
export class RemoteWriteError extends VigilError {
  declare readonly code: RemoteWriteErrorCode;
  constructor(
    code: RemoteWriteErrorCode,
    message: string,
    readonly retryAfterSec?: number,
    /** remote_write 2.0: what was written before the refusal (the X-Prometheus-Remote-Write-*-Written headers). */
    readonly written: V2Written = { samples: 0, histograms: 0, exemplars: 0 },
  ) {
    super(code, message);
  }
}

/** What a remote_write 2.0 request wrote, for the response headers the 2.0 specification requires. */
export interface V2Written {
  samples: number;
  histograms: number;
  exemplars: number;
}

/** Options for {@link RemoteWriteReceiver}. */
export interface RemoteWriteOptions {
  /** Largest accepted decompressed request, in bytes. */
  maxDecodedBytes?: number;
  metadata?: MetadataStore;
  /** Where TimeSeries exemplars go; without it they are counted as dropped. */
  exemplars?: ExemplarStorage;
  /** Samples a second accepted (Mimir's `ingestion_rate`); 0: unlimited (the default). */
  ingestionRate?: number;
  /** Samples a burst may bring at once (Mimir's `ingestion_burst_size`; default: the rate). */
  ingestionBurstSize?: number;
  /** The clock of the rate limit. */
  now?: () => number;
}

/** Totals for self-monitoring. */
export interface RemoteWriteStats {
  requests: number;
  samples: number;
  rejected: number;
  /** Native histogram samples accepted. */
  histograms: number;
  /** Exemplars not stored: no exemplar storage, or refused by it (label set too long, out of order). */
  exemplarsDropped: number;
  /** Exemplars stored. */
  exemplarsAccepted: number;
}

interface SeriesEntry {
  ref: number;
  readonly labels: Labels;
}

/** Decodes and appends remote_write requests. */
export class RemoteWriteReceiver {
  private readonly maxDecoded: number;
  private readonly metadata: MetadataStore | undefined;
  private readonly exemplars: ExemplarStorage | undefined;
  /** Series by their raw label bytes. */
  private readonly known = new RawSeriesCache();
  private readonly snappy = new DecompressPool();
  private readonly sink: BatchSink;
  readonly stats: RemoteWriteStats = { requests: 0, samples: 0, rejected: 0, histograms: 0, exemplarsDropped: 0, exemplarsAccepted: 0 };
  /** The samples-per-second limit, shared by all senders (one tenant). */
  readonly rate: TokenBucket;
  /** Requests refused by the rate limit. */
  readonly limitRefusals = new LimitRefusals();

  constructor(
    private readonly storage: Appendable,
    opts: RemoteWriteOptions = {},
  ) {
    this.maxDecoded = opts.maxDecodedBytes ?? 64 * 1024 * 1024;
    this.metadata = opts.metadata;
    this.exemplars = opts.exemplars;
    this.sink = new BatchSink(this.known, this.stats, this.metadata, this.exemplars !== undefined);
    const rate = opts.ingestionRate ?? 0;
    this.rate = new TokenBucket(rate, opts.ingestionBurstSize ?? rate, opts.now);
  }

  /** Decompresses and stores one request body; throws {@link RemoteWriteError}. */
  async write(body: Buffer, contentEncoding: string | undefined): Promise<{ samples: number; histograms: number }> {
    this.stats.requests++;
    if (contentEncoding && contentEncoding !== 'snappy') {
      this.stats.rejected++;
      throw new RemoteWriteError('bad_request', `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}; remote_write 1.0 uses snappy`);
    }
    let raw: Buffer;
    try {
      raw = await this.snappy.decode(body, this.maxDecoded);
    } catch (err) {
      this.stats.rejected++;
      if (err instanceof SnappyError) throw new RemoteWriteError('bad_request', `snappy: ${err.message}`);
      throw err;
    }
    // From here to commit nothing awaits, so the batch sees no other request's writes in between.
    const app = this.storage.appender();
    try {
      const { samples: n, histograms, exemplars } = this.appendAll(raw, app);
      // Counted once decoded (the body does not say how many samples it holds) and before commit,
      // so a refused request leaves no sample behind for the sender's retry to duplicate. A
      // histogram sample counts as one sample, as in Mimir.
      this.takeRate(n + histograms);
      // Before the samples' commit: if the exemplar log cannot be written the request is refused
      // whole and retried; if the commit fails instead, the retry's exemplars are skipped as duplicates.
      if (exemplars.length > 0) {
        const res = this.exemplars!.append(exemplars);
        this.stats.exemplarsAccepted += res.appended;
        this.stats.exemplarsDropped += res.outOfOrder + res.tooLong;
      }
      app.commit();
      this.stats.samples += n;
      this.stats.histograms += histograms;
      return { samples: n, histograms };
    } catch (err) {
      app.rollback();
      this.stats.rejected++;
      throw refusal(err);
    } finally {
      this.snappy.release(raw);
    }
  }

  /**
   * Stores one remote_write 2.0 request (snappy-compressed `io.prometheus.write.v2.Request`). All
   * or nothing for samples, as 1.0: a refused sample refuses the request. A created timestamp adds
   * a zero sample before the series' first one when the series has nothing at or after it (as
   * Prometheus' created-timestamp zero ingestion). Native histograms are appended after the
   * series' float samples, and an invalid one refuses the request as a bad sample does.
   */
  async writeV2(body: Buffer, contentEncoding: string | undefined): Promise<V2Written> {
    this.stats.requests++;
    if (contentEncoding !== 'snappy') {
      this.stats.rejected++;
      throw new RemoteWriteError(
        'unsupported_media_type',
        `unsupported Content-Encoding ${JSON.stringify(contentEncoding ?? '')}; remote_write 2.0 uses snappy`,
      );
    }
    let raw: Buffer;
    try {
      raw = await this.snappy.decode(body, this.maxDecoded);
    } catch (err) {
      this.stats.rejected++;
      if (err instanceof SnappyError) throw new RemoteWriteError('bad_request', `snappy: ${err.message}`);
      throw err;
    }
    const app = this.storage.appender();
    const written: V2Written = { samples: 0, histograms: 0, exemplars: 0 };
    try {
      const series = decodeV2Request(raw);
      const exemplars: ExemplarInput[] = [];
      let n = 0;
      let histograms = 0;
      for (const s of series) {
        let ref = 0;
        const first = s.ts.length > 0 ? s.ts[0]! : s.histograms[0]?.t;
        if (s.createdTs > 0 && first !== undefined && s.createdTs < first) {
          try {
            // A histogram series starts from an empty histogram of its first one's layout, a reset by definition.
            const h0 = s.ts.length > 0 ? undefined : s.histograms[0]!.h;
            ref =
              h0 === undefined
                ? app.appendInOrder(ref, s.labels, s.createdTs, 0)
                : app.appendHistogram(
                    ref,
                    s.labels,
                    s.createdTs,
                    FloatHistogram.of({ counterResetHint: 'reset', schema: h0.schema, zeroThreshold: h0.zeroThreshold, customValues: h0.customValues }),
                  );
          } catch (err) {
            // The series already has samples at or after its start (in order only, as Prometheus
            // appends it: never into the out-of-order window, where it would read as a reset): no zero to add.
            if (!(err instanceof StorageError) || !CT_SKIPPABLE.has(err.code)) throw err;
          }
        }
        for (let i = 0; i < s.ts.length; i++) ref = app.append(ref, s.labels, s.ts[i]!, s.vs[i]!);
        n += s.ts.length;
        for (const x of s.histograms) ref = app.appendHistogram(ref, s.labels, x.t, x.h);
        histograms += s.histograms.length;
        for (const e of s.exemplars) exemplars.push({ seriesLabels: s.labels, labels: e.labels, value: e.value, ts: e.ts });
        if (s.metadata && this.metadata) {
          const name = s.labels.find((l) => l.name === '__name__')?.value ?? '';
          this.metadata.set(name, s.metadata);
        }
      }
      this.takeRate(n + histograms);
      if (exemplars.length > 0) {
        if (this.exemplars) {
          const res = this.exemplars.append(exemplars);
          written.exemplars = res.appended;
          this.stats.exemplarsAccepted += res.appended;
          this.stats.exemplarsDropped += res.outOfOrder + res.tooLong;
        } else this.stats.exemplarsDropped += exemplars.length;
      }
      app.commit();
      written.samples = n;
      written.histograms = histograms;
      this.stats.samples += n;
      this.stats.histograms += histograms;
    } catch (err) {
      app.rollback();
      this.stats.rejected++;
      const r = refusal(err);
      if (r instanceof RemoteWriteError) throw new RemoteWriteError(r.code, r.message, r.retryAfterSec, { samples: 0, histograms: 0, exemplars: 0 });
      throw r;
    } finally {
      this.snappy.release(raw);
    }
    return written;
  }

  /** Takes `samples` from the rate limit or throws: 429 to retry later, 400 when it can never fit. */
  private takeRate(samples: number): void {
    const wait = this.rate.take(samples);
    if (wait === 0) return;
    this.limitRefusals.add('ingestion_rate');
    if (wait === Infinity) {
      throw new RemoteWriteError(
        'bad_request',
        `request of ${samples} samples is larger than ingestion_burst_size (${this.rate.burst}); send smaller requests (queue_config.max_samples_per_send) or raise the limit`,
      );
    }
    throw new RemoteWriteError(
      'rate_limited',
      `ingestion rate limit ingestion_rate (${this.rate.rate} samples/s, burst ${this.rate.burst}) exceeded while adding ${samples} samples; retry after ${wait}s`,
      wait,
    );
  }

  /** Starts the decompression worker thread. Idempotent; the constructor starts nothing. */
  start(): void {
    this.snappy.start();
  }

  /** Stops the decompression worker. Idempotent. */
  stop(): Promise<void> {
    return this.snappy.stop();
  }

  private appendAll(raw: Buffer, app: Appender): { samples: number; histograms: number; exemplars: ExemplarInput[] } {
    const sink = this.sink;
    sink.begin(app);
    try {
      decodeWriteRequest(raw, sink);
      // New series are cached only once the whole request decoded and appended cleanly.
      for (const f of sink.fresh) this.known.add(raw, f.start, f.end, hashBytes(raw, f.start, f.end), f.entry.labels, f.entry.ref);
      return { samples: sink.samples, histograms: sink.histograms, exemplars: sink.exemplars };
    } finally {
      sink.end();
    }
  }
}

/**
 * Decodes the remote_write `Histogram` message at `buf[start, end)` and appends it to the series;
 * an invalid one is refused naming the series and the field. Returns the series' ref.
 */
function appendHistogramMessage(app: Appender, ref: number, labels: Labels, buf: Buffer, start: number, end: number): number {
  const d = decodeSeriesHistogram(labels, buf, start, end);
  return app.appendHistogram(ref, labels, d.t, d.h);
}

/** Refusals of a created-timestamp zero sample that only mean the series already has data there. */
const CT_SKIPPABLE = new Set(['out_of_order', 'duplicate_sample', 'too_old']);

/** The {@link RemoteWriteError} a failed write becomes. */
function refusal(err: unknown): unknown {
  if (err instanceof RemoteWriteError) return err;
  if (err instanceof ProtoError) return new RemoteWriteError('bad_request', `invalid protobuf WriteRequest: ${err.message}`);
  if (err instanceof InvalidHistogramError) return new RemoteWriteError('bad_request', err.message);
  if (err instanceof StorageError) {
    if (err.code === 'overloaded' || err.code === 'closed') return new RemoteWriteError('overloaded', err.message);
    if (err.code === 'disk_full') return new RemoteWriteError('disk_full', err.message);
    return new RemoteWriteError('bad_request', err.message);
  }
  return err;
}

/**
 * Receives one decoded request and appends it. One instance serves every request (each is decoded
 * and appended without an await in between), so a steady stream of requests allocates no sink.
 */
class BatchSink implements WriteRequestSink {
  /** The series of the current request in order of appearance; sample handles index it. */
  batch: SeriesEntry[] = [];
  fresh: Array<{ start: number; end: number; entry: SeriesEntry }> = [];
  /** The known series of the previous TimeSeries of the request, which predicts the next one. */
  private prevKnown: CachedSeries | undefined;
  samples = 0;
  histograms = 0;
  /** The request's exemplars, stored once its samples are committed. */
  exemplars: ExemplarInput[] = [];
  private app: Appender | undefined;
  /** Present only when exemplars are stored, so the decoder counts them as unsupported otherwise. */
  readonly exemplar: WriteRequestSink['exemplar'];

  constructor(
    private readonly known: RawSeriesCache,
    private readonly stats: RemoteWriteStats,
    private readonly metadataStore: MetadataStore | undefined,
    storesExemplars: boolean,
  ) {
    this.exemplar = storesExemplars
      ? (handle, seriesLabels, labels, value, ts) => {
          this.exemplars.push({ seriesLabels: seriesLabels ?? this.batch[handle]!.labels, labels, value, ts });
        }
      : undefined;
  }

  begin(app: Appender): void {
    this.app = app;
    this.samples = 0;
    this.histograms = 0;
    this.exemplars = [];
  }

  end(): void {
    this.app = undefined;
    this.batch.length = 0;
    this.fresh.length = 0;
    this.prevKnown = undefined;
  }

  series(buf: Buffer, start: number, end: number, labels: Labels | undefined): number {
    let entry: SeriesEntry | undefined;
    if (labels === undefined) {
      const known = this.known.after(this.prevKnown, buf, start, end);
      this.prevKnown = known;
      entry = known;
      if (entry === undefined) {
        entry = { ref: 0, labels: decodeLabels(buf, start, end) };
        this.fresh.push({ start, end, entry });
      }
    } else entry = { ref: 0, labels };
    this.batch.push(entry);
    return this.batch.length - 1;
  }

  sample(handle: number, t: number, v: number): void {
    const e = this.batch[handle]!;
    e.ref = this.app!.append(e.ref, e.labels, t, v);
    this.samples++;
  }

  readonly histogram = (handle: number, buf: Buffer, start: number, end: number): void => {
    const e = this.batch[handle]!;
    e.ref = appendHistogramMessage(this.app!, e.ref, e.labels, buf, start, end);
    this.histograms++;
  };

  metadata(family: string, type: string, help: string, unit: string): void {
    this.metadataStore?.set(family, { type, help, unit });
  }

  unsupported(what: 'histograms' | 'exemplars', count: number): void {
    // Histograms are always taken (a store without them refuses the request instead).
    if (what === 'exemplars') this.stats.exemplarsDropped += count;
  }
}
