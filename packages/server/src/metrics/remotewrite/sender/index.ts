/**
 * The remote_write sender: one {@link RemoteWriteQueue} per `remote_write:` entry, each following
 * the TSDB's WAL from its saved position. It holds WAL segments a queue still needs out of the
 * TSDB's checkpoints (up to the queue's `wal_retention_size`), and shows Prometheus'
 * `prometheus_remote_storage_*` self-metrics.
 */
import * as fs from 'node:fs';
import type { Labels } from '../../../core/model/labels.js';
import type { SelfRegistry, SelfSample } from '../../../core/selfmon/registry.js';
import type { Logger } from '../../../core/util/log.js';
import { walSegmentPath, walSegments } from '../../tsdb/wal.js';
import type { MetricMetadata } from '../../metadata.js';
import type { RemoteWriteConfig } from './config.js';
import { RemoteWriteQueue, type QueueDeps, type QueueStats } from './queue.js';
import type { WalPosition } from './watcher.js';

export type { RemoteWriteConfig } from './config.js';

/** What the sender reads from the TSDB and the rest of Vigil. */
export interface SenderDeps {
  walDir: string;
  /** `<data>/remote_write`: saved positions. */
  stateDir: string;
  /** The WAL's current segment (its end is where a queue without a saved position starts). */
  walSegment: () => number;
  highestTimestamp: () => number;
  metadata?: () => Array<[string, MetricMetadata]>;
  onExemplars?: QueueDeps['onExemplars'];
  logger: Logger;
  shardUpdateMs?: number;
  pollMs?: number;
  flushDeadlineMs?: number;
}

export class RemoteWriteSender {
  private queues: RemoteWriteQueue[] = [];
  private configKey = '';
  /** Times a queue's hold on the WAL was let go because its backlog passed its `wal_retention_size`. */
  holdsReleased = 0;
  /** Counters of stopped queues, so counters never go back on a reload. */
  private readonly retired = new Map<string, QueueStats>();

  constructor(private readonly deps: SenderDeps) {}

  /** Starts (or, when the entries changed, restarts) the queues; the saved positions make a restart lose nothing. */
  async apply(configs: readonly RemoteWriteConfig[], externalLabels: Labels): Promise<void> {
    const key = JSON.stringify([configs, externalLabels]);
    if (key === this.configKey) return;
    await this.stop();
    this.configKey = key;
    this.queues = configs.map(
      (c) =>
        new RemoteWriteQueue(c, {
          walDir: this.deps.walDir,
          stateDir: this.deps.stateDir,
          externalLabels,
          walEnd: () => this.walEnd(),
          highestTimestamp: this.deps.highestTimestamp,
          logger: this.deps.logger,
          ...(this.deps.metadata ? { metadata: this.deps.metadata } : {}),
          ...(this.deps.onExemplars ? { onExemplars: this.deps.onExemplars } : {}),
          ...(this.deps.shardUpdateMs !== undefined ? { shardUpdateMs: this.deps.shardUpdateMs } : {}),
          ...(this.deps.pollMs !== undefined ? { pollMs: this.deps.pollMs } : {}),
          ...(this.deps.flushDeadlineMs !== undefined ? { flushDeadlineMs: this.deps.flushDeadlineMs } : {}),
        }),
    );
    for (const q of this.queues) q.start();
  }

  async stop(): Promise<void> {
    const qs = this.queues;
    this.queues = [];
    this.configKey = '';
    await Promise.all(qs.map((q) => q.stop()));
    for (const q of qs) {
      const before = this.retired.get(seriesKey(q.config));
      const s = { ...q.stats };
      if (before) for (const k of Object.keys(s) as Array<keyof QueueStats>) if (k !== 'highestSentMs') s[k] += before[k];
      this.retired.set(seriesKey(q.config), s);
    }
  }

  /** Every queue lets go of series the WAL no longer holds (see {@link RemoteWriteQueue.forgetSeries}). */
  forgetSeries(gone: ReadonlyMap<number, number>): void {
    for (const q of this.queues) q.forgetSeries(gone);
  }

  get active(): readonly RemoteWriteQueue[] {
    return this.queues;
  }

  private walEnd(): WalPosition {
    const segment = this.deps.walSegment();
    let offset = 0;
    try {
      offset = fs.statSync(walSegmentPath(this.deps.walDir, segment)).size;
    } catch {
      offset = 0;
    }
    return { segment, offset };
  }

  /**
   * The first WAL segment a queue still needs (for the TSDB's checkpoints to keep), or undefined.
   * A queue whose backlog in the WAL exceeds its `wal_retention_size` holds nothing: its oldest
   * segments may then be checkpointed away, and a restart resumes after them.
   */
  retainFrom(): number | undefined {
    if (this.queues.length === 0) return undefined;
    const segs = walSegments(this.deps.walDir);
    const sizes = new Map(segs.map((s) => [s, safeSize(walSegmentPath(this.deps.walDir, s))]));
    let min: number | undefined;
    for (const q of this.queues) {
      const from = q.settledPosition.segment;
      let bytes = 0;
      for (const [s, n] of sizes) if (s >= from) bytes += n;
      if (bytes > q.config.walRetentionBytes) {
        this.holdsReleased++;
        this.deps.logger.warn('remote_write: the backlog in the WAL passed wal_retention_size; its oldest segments are no longer held', {
          remote_name: q.config.name,
          bytes,
          limit: q.config.walRetentionBytes,
        });
        continue;
      }
      min = min === undefined ? from : Math.min(min, from);
    }
    return min;
  }

  /** Registers Prometheus' remote storage metrics (and the WAL watcher's segment). */
  register(reg: SelfRegistry): void {
    const per = (f: (q: RemoteWriteQueue) => number, retired?: (s: QueueStats) => number): (() => SelfSample[]) => {
      return () => {
        const out: SelfSample[] = [];
        const live = new Set<string>();
        for (const q of this.queues) {
          const k = seriesKey(q.config);
          live.add(k);
          const r = retired ? this.retired.get(k) : undefined;
          out.push({ labels: { remote_name: q.config.name, url: q.config.url }, value: f(q) + (r && retired ? retired(r) : 0) });
        }
        if (retired)
          for (const [k, s] of this.retired) {
            if (live.has(k)) continue;
            const [remote_name, url] = JSON.parse(k) as [string, string];
            out.push({ labels: { remote_name, url }, value: retired(s) });
          }
        return out;
      };
    };
    const counter = (name: string, help: string, k: keyof QueueStats): void =>
      reg.register(
        name,
        'counter',
        help,
        per(
          (q) => q.stats[k],
          (s) => s[k],
        ),
      );
    const gauge = (name: string, help: string, f: (q: RemoteWriteQueue) => number): void => reg.register(name, 'gauge', help, per(f));
    counter('prometheus_remote_storage_samples_in_total', 'Samples read from the WAL for this queue (after write relabeling).', 'samplesIn');
    counter('prometheus_remote_storage_samples_total', 'Total number of samples sent to remote storage.', 'samplesTotal');
    counter(
      'prometheus_remote_storage_samples_failed_total',
      'Total number of samples which failed on send to remote storage, non-recoverable errors.',
      'samplesFailed',
    );
    counter(
      'prometheus_remote_storage_samples_retried_total',
      'Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.',
      'samplesRetried',
    );
    counter(
      'prometheus_remote_storage_samples_dropped_total',
      'Total number of samples which were dropped after being read from the WAL before being sent via remote write, either via relabelling, due to being too old or unintentionally because of an unknown reference ID.',
      'samplesDropped',
    );
    counter('prometheus_remote_storage_bytes_total', 'The total number of bytes of data (not metadata) sent by the queue after compression.', 'bytesTotal');
    counter('prometheus_remote_storage_metadata_total', 'Total number of metadata entries sent to remote storage.', 'metadataTotal');
    counter(
      'prometheus_remote_storage_metadata_failed_total',
      'Total number of metadata entries which failed on send to remote storage, non-recoverable errors.',
      'metadataFailed',
    );
    counter(
      'prometheus_remote_storage_metadata_retried_total',
      'Total number of metadata entries which failed on send to remote storage but were retried because the send error was recoverable.',
      'metadataRetried',
    );
    counter('prometheus_remote_storage_exemplars_total', 'Total number of exemplars sent to remote storage.', 'exemplarsTotal');
    counter(
      'prometheus_remote_storage_exemplars_failed_total',
      'Total number of exemplars which failed on send to remote storage, non-recoverable errors.',
      'exemplarsFailed',
    );
    counter(
      'prometheus_remote_storage_exemplars_retried_total',
      'Total number of exemplars which failed on send to remote storage but were retried because the send error was recoverable.',
      'exemplarsRetried',
    );
    counter(
      'prometheus_remote_storage_exemplars_dropped_total',
      'Total number of exemplars which were dropped before being sent: by write relabeling, or past the queue capacity while the receiver was behind.',
      'exemplarsDropped',
    );
    gauge(
      'prometheus_remote_storage_exemplars_pending',
      'The number of exemplars pending in the queue to be sent to the remote storage.',
      (q) => q.exemplarQueue?.length ?? 0,
    );
    gauge(
      'prometheus_remote_storage_samples_pending',
      'The number of samples pending in the queues shards to be sent to the remote storage.',
      (q) => q.pending,
    );
    gauge(
      'prometheus_remote_storage_queue_highest_sent_timestamp_seconds',
      'Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.',
      (q) => q.stats.highestSentMs / 1000,
    );
    gauge('prometheus_remote_storage_shards', 'The number of shards used for parallel sending to the remote storage.', (q) => q.shards.length);
    gauge(
      'prometheus_remote_storage_shards_desired',
      'The number of shards that the queues shard calculation wants to run based on the rate of samples in vs. samples out.',
      (q) => q.desiredShards,
    );
    gauge('prometheus_remote_storage_shards_max', 'The maximum number of shards that the queue is allowed to run.', (q) => q.config.queue.maxShards);
    gauge('prometheus_remote_storage_shards_min', 'The minimum number of shards that the queue is allowed to run.', (q) => q.config.queue.minShards);
    gauge(
      'prometheus_remote_storage_shard_capacity',
      'The capacity of each shard of the queue used for parallel sending to the remote storage.',
      (q) => q.config.queue.capacity,
    );
    gauge(
      'prometheus_remote_storage_max_samples_per_send',
      'The maximum number of samples to be sent, in a single request, to the remote storage.',
      (q) => q.config.queue.maxSamplesPerSend,
    );
    reg.register('prometheus_remote_storage_sent_batch_duration_seconds', 'histogram', 'Duration of send calls to the remote storage (count and sum).', () =>
      this.queues.flatMap((q) => {
        const labels = { remote_name: q.config.name, url: q.config.url };
        return [
          { name: 'prometheus_remote_storage_sent_batch_duration_seconds_bucket', labels: { ...labels, le: '+Inf' }, value: q.stats.sentBatches },
          { name: 'prometheus_remote_storage_sent_batch_duration_seconds_sum', labels, value: q.stats.sentBatchSeconds },
          { name: 'prometheus_remote_storage_sent_batch_duration_seconds_count', labels, value: q.stats.sentBatches },
        ];
      }),
    );
    reg.register(
      'prometheus_remote_storage_highest_timestamp_in_seconds',
      'gauge',
      'Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch.',
      () => Math.max(0, this.deps.highestTimestamp()) / 1000,
    );
    reg.register('prometheus_wal_watcher_current_segment', 'gauge', 'Current segment the WAL watcher is reading records from.', () =>
      this.queues.map((q) => ({ labels: { consumer: q.config.name }, value: q.readingSegment })),
    );
    reg.register(
      'vigil_remote_storage_wal_holds_released_total',
      'counter',
      'Times a remote_write queue let WAL checkpoints take segments it had not sent, because its backlog passed wal_retention_size.',
      () => this.holdsReleased,
    );
  }
}

function seriesKey(c: RemoteWriteConfig): string {
  return JSON.stringify([c.name, c.url]);
}

function safeSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
