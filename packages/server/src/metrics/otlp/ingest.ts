/**
 * OTLP metrics into storage: decode (./decode_proto.ts, ./decode_json.ts), translate
 * (./translate.ts), add up delta series (./delta.ts), then one appender per request, committed
 * (into the WAL) before the reply. The samples-per-second limit is remote_write's own bucket, and
 * new series meet the head's series limits, so OTLP and remote_write are bounded as one.
 *
 * A data point the store refuses (out of order, too old, too new, a series limit) is refused
 * alone and counted in partial_success with the store's reason; the request's other points are
 * kept, so one late batch is not lost whole. The head takes each series' samples in time order
 * only, so a request's points are appended oldest first.
 */
import { StorageError } from '../../core/errors.js';
import { labelsKey } from '../../core/model/labels.js';
import type { LimitRefusals } from '../../core/limits/refusals.js';
import type { TokenBucket } from '../../core/limits/token_bucket.js';
import type { ExemplarStorage } from '../exemplars/storage.js';
import type { MetadataStore } from '../metadata.js';
import type { Appendable, Queryable } from '../storage/interface.js';
import { decodeMetricsJson } from './decode_json.js';
import { decodeMetricsProto } from './decode_proto.js';
import { DeltaState, totalsLookup, type Last, type LatestSampleSource } from './delta.js';
import { OtlpMetricsError } from './errors.js';
import { PointPool, type MetricsRequest } from './model.js';
import type { OutPoint, OutSample } from './out_points.js';
import { DEFAULT_TRANSLATION, storeMetadata, Translator, type OtlpTranslation } from './translate.js';

export interface OtlpMetricsOptions {
  translation?: Partial<OtlpTranslation>;
  /** The samples-per-second limit shared with remote_write; unlimited when absent. */
  rate?: TokenBucket;
  limitRefusals?: LimitRefusals;
  metadata?: MetadataStore;
  exemplars?: ExemplarStorage;
  now?: () => number;
}

export interface OtlpMetricsStats {
  requests: number;
  dataPoints: number;
  samples: number;
  rejectedDataPoints: number;
  exemplarsAccepted: number;
  exemplarsDropped: number;
  /** Requests refused whole, by reason. */
  refused: Record<string, number>;
}

/** What became of a request's data points. */
export interface IngestResult {
  accepted: number;
  rejected: number;
  message: string;
}

/** Store errors that are the server's trouble, not the point's: the whole request fails and is retried. */
const WHOLE_REQUEST = new Set(['disk_full', 'closed', 'overloaded', 'corruption']);

export class OtlpMetricsIngestor {
  readonly stats: OtlpMetricsStats = { requests: 0, dataPoints: 0, samples: 0, rejectedDataPoints: 0, exemplarsAccepted: 0, exemplarsDropped: 0, refused: {} };
  private readonly translator: Translator;
  /** The decoder's number points, reused by each request: decoded, translated and stored before the next. */
  private readonly pointPool = new PointPool();
  readonly delta: DeltaState;

  constructor(
    private readonly storage: Appendable & (Queryable | LatestSampleSource),
    private readonly opts: OtlpMetricsOptions = {},
  ) {
    this.translator = new Translator({ ...DEFAULT_TRANSLATION, ...opts.translation });
    this.delta = new DeltaState(totalsLookup(storage), opts.now);
  }

  /** Decodes and stores one ExportMetricsServiceRequest; throws {@link OtlpMetricsError} or a StorageError for the whole request. */
  ingest(body: Buffer, enc: 'json' | 'protobuf'): IngestResult {
    this.pointPool.reset();
    return this.ingestDecoded(enc === 'protobuf' ? decodeMetricsProto(body, this.pointPool) : decodeMetricsJson(body.toString('utf8')));
  }

  ingestDecoded(req: MetricsRequest): IngestResult {
    const tr = this.translator.translate(req);
    const points = tr.points;
    let samples = 0;
    let sorted = true;
    for (let i = 0; i < points.length; i++) {
      samples += 1 + (points[i]!.more?.length ?? 0);
      if (i > 0 && points[i]!.t < points[i - 1]!.t) sorted = false;
    }
    if (!sorted) points.sort((a, b) => a.t - b.t);
    this.takeRate(samples);
    const reasons = tr.reasons;
    let rejected = tr.rejected;
    let stored = 0;
    const exemplars: OutPoint['exemplars'] = [];
    const app = this.storage.appender();
    try {
      for (const p of points) {
        const why = this.appendPoint(app, p);
        if (why === undefined) {
          stored += 1 + (p.more?.length ?? 0);
          for (const e of p.exemplars) exemplars.push(e);
          continue;
        }
        rejected++;
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      }
      // Before the samples' commit, as remote_write does: a failure here refuses the request whole.
      if (exemplars.length > 0) {
        if (this.opts.exemplars) {
          const res = this.opts.exemplars.append(exemplars);
          this.stats.exemplarsAccepted += res.appended;
          this.stats.exemplarsDropped += res.outOfOrder + res.tooLong;
        } else this.stats.exemplarsDropped += exemplars.length;
      }
      app.commit();
      this.delta.commit();
    } catch (err) {
      app.rollback();
      this.delta.rollback();
      throw err;
    }
    storeMetadata(this.opts.metadata, tr.metadata);
    const accepted = points.length - (rejected - tr.rejected);
    this.stats.dataPoints += accepted;
    this.stats.samples += stored;
    this.stats.rejectedDataPoints += rejected;
    return { accepted, rejected, message: messageOf(reasons) };
  }

  /** Appends one point's samples; returns why the store refused it, or undefined. */
  private appendPoint(app: ReturnType<Appendable['appender']>, p: OutPoint): string | undefined {
    const why = this.appendSample(app, p, p);
    if (why !== undefined || p.more === undefined) return why;
    for (const s of p.more) {
      const w = this.appendSample(app, p, s);
      if (w !== undefined) return w;
    }
    return undefined;
  }

  /** Appends one sample of point `p`; returns why the store refused it, or undefined. */
  private appendSample(app: ReturnType<Appendable['appender']>, p: OutPoint, s: OutSample): string | undefined {
    let v = s.v;
    let h = s.h;
    let staged: { key: string; total: Last } | undefined;
    if (s.delta) {
      const series = s.series;
      const r = this.delta.add(series.labels, s.t, s.v, s.h, (series.deltaKey ??= labelsKey(series.labels)));
      if (typeof r === 'string') return `${p.what}: ${r}`;
      staged = r;
      v = r.total.v;
      h = r.total.h;
    }
    try {
      // The cached reference skips the head's lookup by labels; a stale one (series gone) falls back to it.
      if (h === undefined) s.series.ref = app.append(s.series.ref, s.series.labels, s.t, v);
      else s.series.ref = app.appendHistogram(s.series.ref, s.series.labels, s.t, h);
    } catch (err) {
      if (!(err instanceof StorageError) || WHOLE_REQUEST.has(err.code)) throw err;
      return err.message;
    }
    if (staged) this.delta.stage(staged.key, staged.total);
    return undefined;
  }

  private takeRate(samples: number): void {
    const rate = this.opts.rate;
    if (!rate || samples === 0) return;
    const wait = rate.take(samples);
    if (wait === 0) return;
    this.opts.limitRefusals?.add('ingestion_rate');
    if (wait === Infinity)
      throw new OtlpMetricsError(
        400,
        `a request of ${samples} samples is larger than ingestion_burst_size (${rate.burst}); send smaller batches (the exporter's batch size) or raise the limit`,
      );
    throw new OtlpMetricsError(
      429,
      `ingestion rate limit ingestion_rate (${rate.rate} samples/s, burst ${rate.burst}) exceeded while adding ${samples} samples; retry after ${wait}s`,
      wait,
    );
  }
}

/** partial_success's error_message: each reason once, with how many points it refused, the commonest first. */
function messageOf(reasons: Map<string, number>): string {
  return [...reasons]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([why, n]) => (n > 1 ? `${why} (${n} data points)` : why))
    .join('; ');
}
