/**
 * The log forwarder: one {@link LogForwardQueue} per `logs.forward_to:` entry, each following the
 * log store's WAL from its saved position. It holds WAL segments a queue has not sent out of the
 * store's cleanup (up to the queue's `wal_retention_size`), and shows promtail's client metrics
 * (`promtail_sent_entries_total`, `promtail_dropped_entries_total`, …) with Vigil's pending gauges.
 */
import * as fs from 'node:fs';
import type { SelfRegistry, SelfSample } from '../../core/selfmon/registry.js';
import type { Logger } from '../../core/util/log.js';
import type { LogForwardConfig } from './config.js';
import { LogForwardQueue, type ForwardSource, type ForwardStats } from './queue.js';
import { logWalSegments } from './reader.js';
import { walSegmentPath } from '../store/wal.js';

export type { LogForwardConfig } from './config.js';
export type { ForwardSource } from './queue.js';

/** Options of {@link LogForwarder}. */
export interface LogForwarderDeps {
  source: ForwardSource;
  /** `<data>/logs/forward`: saved positions. */
  stateDir: string;
  logger: Logger;
  /** How often a caught-up queue looks for new lines (ms). */
  pollMs?: number;
  /** How long stop() lets a batch in flight be tried (it is resent after a restart otherwise). */
  flushDeadlineMs?: number;
}

export class LogForwarder {
  private queues: LogForwardQueue[] = [];
  /** The configured entries (queues exist for them before start, for {@link retainFrom}). */
  private configKey = '';
  private started = false;
  /** Times a queue's hold on the WAL was let go because its backlog passed its `wal_retention_size`. */
  holdsReleased = 0;
  /** Counters of queues stopped by a reload, by name and url, so a restarted queue's counters go on from them. */
  private readonly retired = new Map<string, ForwardStats>();

  constructor(private readonly deps: LogForwarderDeps) {}

  /**
   * Takes the `forward_to` entries. Queues are made at once (so {@link retainFrom} reads their saved
   * positions before the store starts) and started with {@link start}; a changed list restarts them.
   */
  async apply(configs: readonly LogForwardConfig[]): Promise<void> {
    const key = JSON.stringify(configs);
    if (key === this.configKey) return;
    await this.stopQueues();
    this.configKey = key;
    this.queues = configs.map(
      (c) => new LogForwardQueue(c, this.deps.source, this.deps.stateDir, this.deps.logger, this.deps.pollMs, this.deps.flushDeadlineMs),
    );
    if (this.started) for (const q of this.queues) q.start();
  }

  start(): void {
    this.started = true;
    for (const q of this.queues) q.start();
  }

  /**
   * Stops the queues (each saves its position) but keeps them, so {@link retainFrom} still holds
   * their unsent WAL segments through the store's last checkpoint at shutdown.
   */
  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.queues.map((q) => q.stop()));
  }

  /** Stops the queues and lets them go; they stay listed (holding their WAL) until they have stopped. */
  private async stopQueues(): Promise<void> {
    const qs = this.queues;
    this.configKey = '';
    await Promise.all(qs.map((q) => q.stop()));
    for (const q of qs) this.retired.set(retiredKey(q), this.statsOf(q));
    this.queues = [];
  }

  /** A queue's counters, with those of the queue of the same name and url before a reload. */
  statsOf(q: LogForwardQueue): ForwardStats {
    const before = this.retired.get(retiredKey(q));
    if (!before) return q.stats;
    const add = (a: Map<string, number>, b: Map<string, number>): Map<string, number> => {
      const m = new Map(a);
      for (const [k, v] of b) m.set(k, (m.get(k) ?? 0) + v);
      return m;
    };
    const requests = new Map(before.requests);
    for (const [k, r] of q.stats.requests) {
      const p = requests.get(k);
      requests.set(k, p ? { count: p.count + r.count, seconds: p.seconds + r.seconds } : r);
    }
    return {
      sentEntries: before.sentEntries + q.stats.sentEntries,
      sentBytes: before.sentBytes + q.stats.sentBytes,
      encodedBytes: before.encodedBytes + q.stats.encodedBytes,
      droppedEntries: add(before.droppedEntries, q.stats.droppedEntries),
      droppedBytes: add(before.droppedBytes, q.stats.droppedBytes),
      batchRetries: before.batchRetries + q.stats.batchRetries,
      requests,
    };
  }

  get active(): readonly LogForwardQueue[] {
    return this.queues;
  }

  /**
   * The first WAL segment a queue still needs (for the store to keep), or undefined. A queue whose
   * backlog in the WAL passes its `wal_retention_size` holds nothing: its oldest segments may then
   * go, and it resumes after them.
   */
  retainFrom(): number | undefined {
    if (this.queues.length === 0) return undefined;
    const dir = this.deps.source.walDir;
    const sizes = logWalSegments(dir).map((s) => [s, safeSize(walSegmentPath(dir, s))] as const);
    let min: number | undefined;
    for (const q of this.queues) {
      const from = q.settledPosition?.segment;
      if (from === undefined) continue;
      let bytes = 0;
      for (const [s, n] of sizes) if (s >= from) bytes += n;
      if (bytes > q.config.walRetentionBytes) {
        this.holdsReleased++;
        this.deps.logger.warn('log forwarder: the backlog in the WAL passed wal_retention_size; its oldest segments are no longer held', {
          forwarder: q.config.name,
          bytes,
          limit: q.config.walRetentionBytes,
        });
        continue;
      }
      min = min === undefined ? from : Math.min(min, from);
    }
    return min;
  }

  /** WAL bytes past a queue's settled position: what it still has to send. */
  private pendingBytes(q: LogForwardQueue): number {
    const from = q.settledPosition;
    if (!from) return 0;
    const dir = this.deps.source.walDir;
    let bytes = 0;
    for (const s of logWalSegments(dir)) if (s >= from.segment) bytes += safeSize(walSegmentPath(dir, s)) - (s === from.segment ? from.offset : 0);
    return Math.max(0, bytes);
  }

  /** Registers promtail's client metrics and Vigil's pending gauges, labelled by `host` and forwarder `name`. */
  register(reg: SelfRegistry): void {
    const labelsOf = (q: LogForwardQueue): Record<string, string> => ({ host: hostOf(q.config.url), name: q.config.name });
    const per =
      (f: (q: LogForwardQueue) => number): (() => SelfSample[]) =>
      () =>
        this.queues.map((q) => ({ labels: labelsOf(q), value: f(q) }));
    const byReason =
      (f: (q: LogForwardQueue) => Map<string, number>): (() => SelfSample[]) =>
      () =>
        this.queues.flatMap((q) => [...f(q)].map(([reason, value]) => ({ labels: { ...labelsOf(q), reason }, value })));
    reg.register(
      'promtail_sent_entries_total',
      'counter',
      'Number of log entries sent to the ingester.',
      per((q) => this.statsOf(q).sentEntries),
    );
    reg.register(
      'promtail_sent_bytes_total',
      'counter',
      'Number of bytes sent.',
      per((q) => this.statsOf(q).sentBytes),
    );
    reg.register(
      'promtail_encoded_bytes_total',
      'counter',
      'Number of bytes encoded and ready to send (each try counts).',
      per((q) => this.statsOf(q).encodedBytes),
    );
    reg.register(
      'promtail_dropped_entries_total',
      'counter',
      'Number of log entries dropped because they failed to be sent to the ingester after all retries, by reason.',
      byReason((q) => this.statsOf(q).droppedEntries),
    );
    reg.register(
      'promtail_dropped_bytes_total',
      'counter',
      'Number of bytes dropped, by reason.',
      byReason((q) => this.statsOf(q).droppedBytes),
    );
    reg.register(
      'promtail_batch_retries_total',
      'counter',
      'Number of times batches have had to be retried.',
      per((q) => this.statsOf(q).batchRetries),
    );
    reg.register('promtail_request_duration_seconds', 'histogram', 'Duration of send requests (count and sum), by status code (0: no answer).', () =>
      this.queues.flatMap((q) =>
        [...this.statsOf(q).requests].flatMap(([code, r]) => {
          const labels = { ...labelsOf(q), status_code: code };
          return [
            { name: 'promtail_request_duration_seconds_bucket', labels: { ...labels, le: '+Inf' }, value: r.count },
            { name: 'promtail_request_duration_seconds_sum', labels, value: r.seconds },
            { name: 'promtail_request_duration_seconds_count', labels, value: r.count },
          ];
        }),
      ),
    );
    reg.register(
      'vigil_log_forward_pending_entries',
      'gauge',
      'Log lines read from the WAL and not yet settled (the batch being filled or sent).',
      per((q) => q.pendingEntries),
    );
    reg.register(
      'vigil_log_forward_pending_bytes',
      'gauge',
      'Bytes of the log WAL past the position the receiver has settled: what the forwarder still has to send.',
      per((q) => this.pendingBytes(q)),
    );
    reg.register(
      'vigil_log_forward_wal_skipped_bytes_total',
      'counter',
      'Damaged or unfinished log WAL bytes the forwarder passed over.',
      per((q) => q.skippedBytes),
    );
    reg.register(
      'vigil_log_forward_wal_holds_released_total',
      'counter',
      'Times a log forwarder let the log store delete WAL segments it had not sent, because its backlog passed wal_retention_size.',
      () => this.holdsReleased,
    );
  }
}

function retiredKey(q: LogForwardQueue): string {
  return JSON.stringify([q.config.name, q.config.url]);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function safeSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}
