/**
 * `send_exemplars: true`: exemplars are forwarded as exemplar storage accepts them (after their
 * own log write), batched like samples and retried the same way. Vigil keeps exemplars beside the
 * WAL rather than in it, so unlike samples they are held in memory only: at most `capacity` wait
 * (the oldest are dropped past it), and what is unsent at a restart is not sent.
 */
import type { HttpClient } from '../../../core/httpclient/client.js';
import { labelsKey, type Labels } from '../../../core/model/labels.js';
import { snappyEncode } from '../../../core/util/snappy.js';
import type { ExemplarInput } from '../../exemplars/storage.js';
import { WriteRequestEncoder, type EncoderExemplar } from '../proto.js';
import type { RemoteWriteConfig } from './config.js';
import { abortableSleep, Backoff, parseRetryAfter, sendVerdict } from '../../../core/httpclient/retry.js';
import { Doze } from './doze.js';
import { RW2_HEADERS, v2Outcome, V2RequestBuilder, writtenFrom } from './v2_request.js';

/** The exemplar counters of a queue. */
export interface ExemplarStats {
  exemplarsTotal: number;
  exemplarsFailed: number;
  exemplarsRetried: number;
  exemplarsDropped: number;
}

interface Pending {
  readonly series: Labels;
  readonly ex: EncoderExemplar;
}

export class ExemplarQueue {
  private pending: Pending[] = [];
  private firstAt = 0;
  private readonly doze = new Doze();
  private ending = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly config: RemoteWriteConfig,
    private readonly client: HttpClient,
    /** The series' labels as sent (external labels, write relabeling), or undefined when dropped. */
    private readonly outgoing: (labels: Labels) => Labels | undefined,
    private readonly stats: ExemplarStats,
    private readonly signal: AbortSignal,
  ) {
    this.done = this.run();
  }

  get length(): number {
    return this.pending.length;
  }

  push(batch: readonly ExemplarInput[]): void {
    for (const e of batch) {
      const series = this.outgoing(e.seriesLabels);
      if (!series) {
        this.stats.exemplarsDropped++;
        continue;
      }
      if (this.pending.length === 0) this.firstAt = performance.now();
      this.pending.push({ series, ex: { labels: e.labels, value: e.value, ts: e.ts } });
    }
    const over = this.pending.length - this.config.queue.capacity;
    if (over > 0) {
      this.pending.splice(0, over);
      this.stats.exemplarsDropped += over;
    }
    // The loop sets the deadline of a first exemplar, and sends at once when a batch is full.
    if (this.pending.length > 0) this.wake();
  }

  /** Sends what is buffered (until the queue's hard stop) and ends. */
  end(): Promise<void> {
    this.ending = true;
    this.wake();
    return this.done;
  }

  private wake(): void {
    this.doze.wake();
  }

  private async run(): Promise<void> {
    const max = this.config.queue.maxSamplesPerSend;
    for (;;) {
      if (this.pending.length === 0 || this.signal.aborted) {
        if (this.ending) return;
        await this.doze.sleep(Infinity);
        continue;
      }
      const wait = this.firstAt + this.config.queue.batchSendDeadlineMs - performance.now();
      if (this.pending.length < max && !this.ending && wait > 0) {
        await this.doze.sleep(wait);
        continue;
      }
      const batch = this.pending.splice(0, max);
      this.firstAt = performance.now();
      await this.send(batch);
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const bySeries = new Map<string, { series: Labels; ex: EncoderExemplar[] }>();
    for (const p of batch) {
      const k = labelsKey(p.series);
      const g = bySeries.get(k);
      if (g) g.ex.push(p.ex);
      else bySeries.set(k, { series: p.series, ex: [p.ex] });
    }
    // 2.0: the series' exemplars without samples (Vigil keeps exemplars beside the WAL, not with them).
    const v2 = this.config.protobufMessage === 'io.prometheus.write.v2.Request';
    let raw: Buffer;
    if (v2) {
      const b = new V2RequestBuilder();
      for (const g of bySeries.values()) b.add(g.series, { idx: [], ts: [], vs: [] }, g.ex);
      raw = b.finish();
    } else {
      const enc = new WriteRequestEncoder();
      for (const g of bySeries.values()) enc.addSeries(g.series, [], [], g.ex);
      raw = enc.finish();
    }
    const body = snappyEncode(raw);
    const q = this.config.queue;
    const backoff = new Backoff(q.minBackoffMs, q.maxBackoffMs);
    while (!this.signal.aborted) {
      this.stats.exemplarsTotal += batch.length;
      let status = 0;
      let retryAfterMs: number | undefined;
      let headers: Record<string, string | string[] | undefined> = {};
      try {
        const res = await this.client.request('POST', this.config.url, {
          headers: {
            ...this.config.headers,
            'content-type': 'application/x-protobuf',
            'content-encoding': 'snappy',
            'x-prometheus-remote-write-version': '0.1.0',
            ...(v2 ? RW2_HEADERS : {}),
          },
          body,
          timeoutMs: this.config.remoteTimeoutMs,
          signal: this.signal,
          truncateBodyAt: 64 * 1024,
        });
        status = res.status;
        retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        headers = res.headers;
      } catch {
        status = 0;
      }
      const verdict = sendVerdict(status, q.retryOnHttp429);
      if (v2 && verdict !== 'retry') {
        this.stats.exemplarsFailed += v2Outcome(status, writtenFrom(headers), 'exemplars', batch.length).failed;
        return;
      }
      if (verdict === 'sent') return;
      if (verdict === 'drop') {
        this.stats.exemplarsFailed += batch.length;
        return;
      }
      this.stats.exemplarsRetried += batch.length;
      const doubled = backoff.next();
      await abortableSleep(retryAfterMs ?? doubled, this.signal);
    }
  }
}
