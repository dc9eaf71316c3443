/**
 * One remote_write queue (one `remote_write:` entry): the WAL watcher feeds it, shards send it,
 * and it keeps the WAL position up to which the receiver has settled every sample (acknowledged, or
 * refused for good), saved to disk so a restart resumes there. Resharding follows throughput as
 * Prometheus' queue manager does: the shards needed are the send time per sample times the rate
 * samples come in, plus a share of the backlog, within min_shards..max_shards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HttpClient } from '../../../core/httpclient/client.js';
import { sortLabels, type Label, type Labels } from '../../../core/model/labels.js';
import type { FloatHistogram } from '../../../core/model/histogram.js';
import type { Logger } from '../../../core/util/log.js';
import { snappyEncode } from '../../../core/util/snappy.js';
import { compileRelabel, relabel, type CompiledRelabel } from '../../relabel/relabel.js';
import { LabelsPacker, type EncodedLabels } from '../proto.js';
import type { RemoteWriteConfig } from './config.js';
import { encodeBatch, Shard, shardDecision, type Batch, type ShardOwner } from './shard.js';
import { WalWatcher, type WatcherSink } from './watcher.js';
import { comparePositions, readPosition, writePosition, type WalPosition } from '../../../core/util/position.js';
import type { MetricMetadata } from '../../metadata.js';
import { sendMetadata } from './send_parts.js';
import { abortableSleep, Backoff, parseRetryAfter, sendVerdict } from '../../../core/httpclient/retry.js';
import { ExemplarQueue, type ExemplarStats } from './exemplars.js';
import { encodeBatchV2, familyMetadata, RW2_HEADERS, v2Outcome, V2RequestBuilder, writtenFrom } from './v2_request.js';
import type { ExemplarInput } from '../../exemplars/storage.js';

/** What a queue needs from the rest of Vigil. */
export interface QueueDeps {
  walDir: string;
  /** Where the saved position lives. */
  stateDir: string;
  externalLabels: Labels;
  /** The end of the WAL now (where a queue without a saved position starts). */
  walEnd: () => WalPosition;
  /** Newest sample timestamp stored, ms (for the backlog estimate). */
  highestTimestamp: () => number;
  metadata?: () => Array<[string, MetricMetadata]>;
  /** Subscribes to exemplars as exemplar storage accepts them (for `send_exemplars`); returns the unsubscribe. */
  onExemplars?: (listener: (batch: readonly ExemplarInput[]) => void) => () => void;
  logger: Logger;
  /** How often shards are recomputed, ms (Prometheus: 10 s). */
  shardUpdateMs?: number;
  /** How long stop() lets buffered samples be sent before giving up on them (they are resent after a restart). */
  flushDeadlineMs?: number;
  pollMs?: number;
}

/** Counters, as the `prometheus_remote_storage_*` families show them. */
export interface QueueStats extends ExemplarStats {
  samplesIn: number;
  /** Samples in requests attempted (each retry counts again, as in Prometheus). */
  samplesTotal: number;
  samplesFailed: number;
  samplesRetried: number;
  samplesDropped: number;
  bytesTotal: number;
  highestSentMs: number;
  metadataTotal: number;
  metadataFailed: number;
  metadataRetried: number;
  /** Requests that got an answer, and their summed duration (s), for the batch-duration summary. */
  sentBatches: number;
  sentBatchSeconds: number;
}

export class RemoteWriteQueue implements WatcherSink, ShardOwner {
  readonly stats: QueueStats = {
    samplesIn: 0,
    samplesTotal: 0,
    samplesFailed: 0,
    samplesRetried: 0,
    samplesDropped: 0,
    bytesTotal: 0,
    highestSentMs: 0,
    metadataTotal: 0,
    metadataFailed: 0,
    metadataRetried: 0,
    sentBatches: 0,
    sentBatchSeconds: 0,
    exemplarsTotal: 0,
    exemplarsFailed: 0,
    exemplarsRetried: 0,
    exemplarsDropped: 0,
  };
  /** `send_exemplars`: exemplars forwarded as they are stored. */
  exemplarQueue: ExemplarQueue | undefined;
  private unsubscribe: (() => void) | undefined;
  shards: Shard[] = [];
  desiredShards: number;
  private readonly labelsByRef = new Map<number, EncodedLabels | null>();
  /** The encoded labels of `labelsByRef`, packed together (they live as long as the queue). */
  private readonly labelsPacker = new LabelsPacker();
  private readonly rules: readonly CompiledRelabel[];
  private readonly client: HttpClient;
  private readonly watcher: WalWatcher;
  private watching: Promise<void> | undefined;
  /** Samples records not yet settled: the position past each and how many of its samples are out. */
  private recEnd: WalPosition[] = [];
  private recLeft: number[] = [];
  /** The sequence number of recEnd[0]. */
  private recBase = 0;
  private recHead = 0;
  private nextSeq = 0;
  /** Everything before this position is settled. */
  private settled: WalPosition = { segment: 0, offset: 0 };
  private savedAt: WalPosition | undefined;
  private resharding = false;
  private reshardDone: Promise<void> = Promise.resolve();
  private drainWaiters: Array<() => void> = [];
  private readonly hardStop = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private lastFailure = -Infinity;
  private lastWarn = -Infinity;
  // Throughput since the last shard update, and its smoothed rates (samples/s).
  private inCount = 0;
  private outCount = 0;
  private outSeconds = 0;
  private inRate = 0;
  private outTimePerSample = 0;
  readonly maxSamplesPerSend: number;
  readonly batchSendDeadlineMs: number;
  private readonly positionFile: string;
  /** remote_write 2.0: series carry their family's metadata, looked up in a copy refreshed every 10 s. */
  private readonly v2: boolean;
  private metadataCopy = new Map<string, MetricMetadata>();
  private metadataCopiedAt = -Infinity;

  constructor(
    readonly config: RemoteWriteConfig,
    private readonly deps: QueueDeps,
  ) {
    this.maxSamplesPerSend = config.queue.maxSamplesPerSend;
    this.batchSendDeadlineMs = config.queue.batchSendDeadlineMs;
    this.rules = compileRelabel(config.writeRelabelConfigs);
    this.client = new HttpClient(config.httpClient, { idleTimeoutMs: 60_000 });
    this.desiredShards = config.queue.minShards;
    this.watcher = new WalWatcher(deps.walDir, this, {
      ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
      warn: (msg, f) => deps.logger.warn(msg, { remote_name: config.name, ...f }),
    });
    this.positionFile = path.join(deps.stateDir, `${config.name}.position.json`);
    this.v2 = config.protobufMessage === 'io.prometheus.write.v2.Request';
  }

  /** The position a restart would resume from. */
  get settledPosition(): WalPosition {
    return this.settled;
  }

  /** The segment the watcher reads. */
  get readingSegment(): number {
    return this.watcher.position.segment;
  }

  get pending(): number {
    let n = 0;
    for (const s of this.shards) n += s.length;
    return n;
  }

  start(): void {
    const saved = this.loadPosition();
    const end = this.deps.walEnd();
    this.watcher.seek(saved, end);
    this.settled = this.savedAt = this.watcher.position;
    this.shards = Array.from({ length: this.desiredShards }, () => new Shard(this));
    this.watching = this.watcher.run();
    if (this.config.sendExemplars && this.deps.onExemplars) {
      const eq = (this.exemplarQueue = new ExemplarQueue(this.config, this.client, (l) => this.outgoing(l), this.stats, this.hardStop.signal));
      this.unsubscribe = this.deps.onExemplars((b) => eq.push(b));
    }
    const every = (ms: number, f: () => void): void => void this.timers.push(setInterval(f, ms).unref());
    every(1000, () => this.savePosition());
    every(this.deps.shardUpdateMs ?? 10_000, () => void this.updateShards());
    // 2.0 sends metadata with each series; Prometheus 3 likewise ignores metadata_config.send then.
    if (this.config.metadata.send && this.deps.metadata && !this.v2) every(this.config.metadata.sendIntervalMs, () => void this.sendMetadata());
    this.deps.logger.info('remote_write queue started', { remote_name: this.config.name, url: this.config.url, from: this.settled });
  }

  /** Stops reading, lets buffered samples go out for a while, and saves the position. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    // The deadline covers a reshard under way too: its old shards may be retrying a receiver that is down.
    const timer = setTimeout(() => this.hardStop.abort(), this.deps.flushDeadlineMs ?? 5_000);
    this.watcher.stop();
    this.unsubscribe?.();
    this.notifyDrained();
    await this.watching;
    await this.reshardDone;
    await Promise.all([...this.shards.map((s) => s.flushAndEnd()), this.exemplarQueue?.end()]);
    clearTimeout(timer);
    this.hardStop.abort();
    this.savePosition();
    this.client.close();
  }

  // ---- WatcherSink

  series(ref: number, labels: Labels): void {
    // Seeking reads some series records twice; a ref's labels never change.
    if (this.labelsByRef.has(ref)) return;
    const out = this.outgoing(labels);
    this.labelsByRef.set(ref, out ? this.labelsPacker.encode(out) : null);
  }

  /** A series' labels as sent: external labels added where it has no such label, then write relabeling (undefined: dropped). */
  outgoing(labels: Labels): Labels | undefined {
    let ls = labels;
    const ext = this.deps.externalLabels;
    if (ext.length > 0) {
      const have = new Set(labels.map((l) => l.name));
      const merged: Label[] = [...labels];
      for (const l of ext) if (!have.has(l.name)) merged.push(l);
      ls = sortLabels(merged);
    }
    const out = this.rules.length > 0 ? relabel(ls, this.rules) : ls;
    return out && out.length > 0 ? out : undefined;
  }

  /**
   * Lets go of series whose records the WAL no longer holds (ref → the last segment that can hold
   * their samples), where this queue has settled past that segment: it will not meet them again.
   * A queue still behind (its hold let go past wal_retention_size) keeps them for what it has yet to send.
   */
  forgetSeries(gone: ReadonlyMap<number, number>): void {
    const settled = this.settledPosition.segment;
    for (const [ref, segment] of gone) if (segment < settled) this.labelsByRef.delete(ref);
  }

  samples(refs: number[], ts: number[], vs: Float64Array, end: WalPosition): void {
    this.intake(refs, ts, vs, undefined, end);
  }

  histograms(refs: number[], ts: number[], hs: FloatHistogram[], end: WalPosition): void {
    this.intake(refs, ts, undefined, hs, end);
  }

  /** One WAL record's samples (floats in `vs`, or histograms in `hs`) into the shards. */
  private intake(refs: number[], ts: number[], vs: Float64Array | undefined, hs: FloatHistogram[] | undefined, end: WalPosition): void {
    const seq = this.nextSeq++;
    const shards = this.shards;
    const n = shards.length;
    let kept = 0;
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      const l = this.labelsByRef.get(ref);
      // Unknown ref (its series record was checkpointed away) or dropped by write_relabel_configs.
      if (!l) {
        this.stats.samplesDropped++;
        continue;
      }
      if (vs !== undefined) shards[ref % n]!.push(ref, ts[i]!, vs[i]!, seq);
      else shards[ref % n]!.push(ref, ts[i]!, NaN, seq, hs![i]!);
      kept++;
    }
    this.recEnd.push(end);
    this.recLeft.push(kept);
    this.stats.samplesIn += kept;
    this.inCount += kept;
    if (kept === 0) this.settle();
  }

  full(): boolean {
    if (this.resharding) return true;
    const cap = this.config.queue.capacity;
    for (const s of this.shards) if (s.length >= cap) return true;
    return false;
  }

  drained(): Promise<void> {
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private notifyDrained(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }

  // ---- settling and the saved position

  private ack(seqs: ArrayLike<number>): void {
    for (let i = 0; i < seqs.length; i++) this.recLeft[seqs[i]! - this.recBase]!--;
    this.settle();
    this.notifyDrained();
  }

  private settle(): void {
    const left = this.recLeft;
    let h = this.recHead;
    while (h < left.length && left[h] === 0) h++;
    if (h === this.recHead) return;
    this.settled = this.recEnd[h - 1]!;
    this.recHead = h;
    if (h > 4096 && h * 2 > left.length) {
      this.recEnd = this.recEnd.slice(h);
      this.recLeft = left.slice(h);
      this.recBase += h;
      this.recHead = 0;
    }
  }

  private loadPosition(): WalPosition | undefined {
    const p = readPosition(this.positionFile);
    if (p && p.url !== this.config.url) {
      this.deps.logger.info('remote_write: the url changed; starting with new samples', { remote_name: this.config.name });
      return undefined;
    }
    return p;
  }

  savePosition(): void {
    const p = this.settled;
    if (this.savedAt && comparePositions(this.savedAt, p) === 0 && fs.existsSync(this.positionFile)) return;
    writePosition(this.positionFile, p, this.config.url);
    this.savedAt = p;
  }

  // ---- sending

  async send(batch: Batch): Promise<void> {
    const q = this.config.queue;
    let b = batch;
    const backoff = new Backoff(q.minBackoffMs, q.maxBackoffMs);
    for (;;) {
      if (this.hardStop.signal.aborted) return; // not settled: sent again after a restart
      if (q.sampleAgeLimitMs > 0) b = this.dropTooOld(b);
      const n = b.refs.length;
      if (n === 0) return;
      // The uncompressed request lives only until it is compressed: one scratch buffer serves all.
      const labelsOf = (ref: number): EncodedLabels => this.labelsByRef.get(ref)!;
      const body = snappyEncode(
        this.v2 ? encodeBatchV2(b, labelsOf, (name) => this.metadataOf(name), v2Builder).body : encodeBatch(b, labelsOf, requestScratch),
      );
      this.stats.samplesTotal += n;
      this.stats.bytesTotal += body.length;
      const began = performance.now();
      let status = 0;
      let retryAfterMs: number | undefined;
      let detail = '';
      let headers: Record<string, string | string[] | undefined> = {};
      try {
        const res = await this.client.request('POST', this.config.url, {
          headers: {
            ...this.config.headers,
            'content-type': 'application/x-protobuf',
            'content-encoding': 'snappy',
            'user-agent': 'Vigil/remote-write',
            'x-prometheus-remote-write-version': '0.1.0',
            ...(this.v2 ? RW2_HEADERS : {}),
          },
          body,
          timeoutMs: this.config.remoteTimeoutMs,
          signal: this.hardStop.signal,
          truncateBodyAt: 64 * 1024,
        });
        status = res.status;
        detail = res.body.toString('utf8', 0, Math.min(res.body.length, 512));
        retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        headers = res.headers;
      } catch (err) {
        detail = (err as Error).message;
      }
      const seconds = (performance.now() - began) / 1000;
      if (status > 0) {
        this.stats.sentBatches++;
        this.stats.sentBatchSeconds += seconds;
      }
      const verdict = sendVerdict(status, q.retryOnHttp429);
      if (this.v2 && verdict !== 'retry') {
        // What the receiver confirms writing decides what failed; the batch is settled either way.
        const out = v2Outcome(status, writtenFrom(headers), 'samples', n);
        this.stats.samplesFailed += out.failed;
        if (out.problem) this.warn(`remote_write 2.0: ${out.problem}`, { status, detail });
        else if (verdict === 'drop') this.warn('remote_write: the receiver refused a batch; its samples are dropped', { status, detail });
        if (verdict === 'sent') this.sent(b, n, seconds);
        else this.ack(b.seqs);
        return;
      }
      if (verdict === 'sent') {
        this.sent(b, n, seconds);
        return;
      }
      if (verdict === 'drop') {
        // The receiver refuses these samples for good: retrying cannot help.
        this.stats.samplesFailed += n;
        this.warn('remote_write: the receiver refused a batch; its samples are dropped', { status, detail });
        this.ack(b.seqs);
        return;
      }
      if (this.hardStop.signal.aborted) return;
      this.stats.samplesRetried += n;
      this.lastFailure = performance.now();
      const doubled = backoff.next();
      const waitMs = retryAfterMs ?? doubled;
      this.warn('remote_write: sending failed; retrying with backoff', { status: status || undefined, detail, backoffMs: waitMs });
      await abortableSleep(waitMs, this.hardStop.signal);
    }
  }

  /** Settles an acknowledged batch and takes its throughput into account. */
  private sent(b: Batch, n: number, seconds: number): void {
    let hi = this.stats.highestSentMs;
    for (let i = 0; i < b.ts.length; i++) if (b.ts[i]! > hi) hi = b.ts[i]!;
    this.stats.highestSentMs = hi;
    this.outCount += n;
    this.outSeconds += seconds;
    this.ack(b.seqs);
  }

  /** A series' metadata for 2.0 requests, by its metric name. */
  private metadataOf(name: string): MetricMetadata | undefined {
    if (!this.deps.metadata) return undefined;
    if (performance.now() - this.metadataCopiedAt > 10_000) {
      this.metadataCopy = new Map(this.deps.metadata());
      this.metadataCopiedAt = performance.now();
    }
    return familyMetadata(this.metadataCopy, name);
  }

  /** Drops (and settles) samples older than `sample_age_limit`, as Prometheus does before each attempt. */
  private dropTooOld(b: Batch): Batch {
    const min = Date.now() - this.config.queue.sampleAgeLimitMs;
    const keep: number[] = [];
    const gone: number[] = [];
    for (let i = 0; i < b.ts.length; i++) (b.ts[i]! < min ? gone : keep).push(i);
    if (gone.length === 0) return b;
    this.stats.samplesDropped += gone.length;
    this.ack(gone.map((i) => b.seqs[i]!));
    const vs = new Float64Array(keep.length);
    keep.forEach((i, j) => (vs[j] = b.vs[i]!));
    // The kept samples' seqs stay in the batch so they are settled when it is.
    const hs = b.hs;
    return {
      refs: keep.map((i) => b.refs[i]!),
      ts: keep.map((i) => b.ts[i]!),
      vs,
      seqs: keep.map((i) => b.seqs[i]!),
      ...(hs ? { hs: keep.map((i) => hs[i]) } : {}),
    };
  }

  private warn(msg: string, fields: Record<string, unknown>): void {
    // At most one line every 10 s: an outage must not flood the log.
    const now = performance.now();
    if (now - this.lastWarn < 10_000) return;
    this.lastWarn = now;
    this.deps.logger.warn(msg, { remote_name: this.config.name, url: this.config.url, ...fields });
  }

  // ---- resharding

  /** Recomputes the shards wanted from the last interval's throughput; reshards when it leaves the ±30% band. */
  async updateShards(): Promise<void> {
    const secs = (this.deps.shardUpdateMs ?? 10_000) / 1000;
    const a = 0.2; // Prometheus' EWMA weight
    this.inRate = this.inRate === 0 ? this.inCount / secs : a * (this.inCount / secs) + (1 - a) * this.inRate;
    if (this.outCount > 0) {
      const tps = this.outSeconds / this.outCount;
      this.outTimePerSample = this.outTimePerSample === 0 ? tps : a * tps + (1 - a) * this.outTimePerSample;
    }
    this.inCount = this.outCount = 0;
    this.outSeconds = 0;
    // Not while sends fail: more shards would only add load to a receiver in trouble.
    if (this.resharding || performance.now() - this.lastFailure < secs * 1000 || this.outTimePerSample === 0) return;
    const { desired, reshard } = shardDecision({
      current: this.shards.length,
      queue: this.config.queue,
      inRate: this.inRate,
      timePerSample: this.outTimePerSample,
      pending: this.pending,
      delaySec: Math.max(0, (this.deps.highestTimestamp() - this.stats.highestSentMs) / 1000),
    });
    this.desiredShards = desired;
    if (!reshard) return;
    await this.reshard(desired);
  }

  /**
   * Replaces the shards by `n` new ones. Intake pauses; each old shard ends once its request in
   * flight is settled, and what it still buffers is re-hashed into the new shards in order, so
   * every series' samples still go out in order, and a backlog does not have to drain through the
   * old shards first.
   */
  reshard(n: number): Promise<void> {
    if (this.resharding || n === this.shards.length) return this.reshardDone;
    this.resharding = true;
    this.reshardDone = (async () => {
      try {
        const rest = await Promise.all(this.shards.map((s) => s.halt()));
        const fresh = Array.from({ length: n }, () => new Shard(this));
        for (const b of rest) for (let i = 0; i < b.refs.length; i++) fresh[b.refs[i]! % n]!.push(b.refs[i]!, b.ts[i]!, b.vs[i]!, b.seqs[i]!, b.hs?.[i]);
        this.shards = fresh;
        this.deps.logger.info('remote_write: resharded', { remote_name: this.config.name, shards: n });
      } finally {
        this.resharding = false;
        this.notifyDrained();
      }
    })();
    return this.reshardDone;
  }

  /** Sends every metric family's metadata (see {@link sendMetadata}). */
  async sendMetadata(): Promise<void> {
    await sendMetadata(this.client, this.config, this.deps.metadata?.() ?? [], this.stats, this.hardStop.signal);
  }
}

/** Where requests are encoded before compression (encoding and compressing run to completion). */
const requestScratch = { buf: Buffer.allocUnsafeSlow(0) };
/** The same for 2.0 requests (its symbols table is per request). */
const v2Builder = new V2RequestBuilder();
