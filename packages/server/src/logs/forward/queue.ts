/**
 * One forwarder (one `logs.forward_to:` entry): reads the log WAL from its saved position, gathers
 * lines into batches as promtail's client does (sent at `batchsize` line bytes or `batchwait` after
 * the first line), pushes each as a snappy-compressed protobuf PushRequest, and waits for the
 * answer before the next, so every stream arrives in WAL order. 5xx, 429 and no answer are tried
 * again with doubling backoff (Retry-After when given); another 4xx drops the batch, counted. After
 * each batch is settled the position past it is saved, so a restart (a kill -9 included) resends at
 * most the batch that was in flight.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HttpClient } from '../../core/httpclient/client.js';
import { abortableSleep, Backoff, parseRetryAfter, sendVerdict } from '../../core/httpclient/retry.js';
import { formatStreamSelector, sortLabels, type Label, type Labels } from '../../core/model/labels.js';
import { comparePositions, readPosition, writePosition, type WalPosition } from '../../core/util/position.js';
import type { Logger } from '../../core/util/log.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { encodeLokiProto } from '../ingest/loki_push.js';
import type { LogForwardConfig } from './config.js';
import { LogWalReader } from './reader.js';

/** What a forwarder reads from the log store. */
export interface ForwardSource {
  readonly walDir: string;
  /** The position past the WAL's last record (where a forwarder without a saved position starts). */
  walEnd(): WalPosition;
  /** The labels of the stream a WAL entry names (undefined: unknown). */
  streamLabels(id: number): Labels | undefined;
}

/** Counters, as the `promtail_*` families show them. */
export interface ForwardStats {
  sentEntries: number;
  sentBytes: number;
  encodedBytes: number;
  /** Entries and line bytes dropped, by reason (`ingester_error`: a 4xx; `rate_limited`; `max_retries`; `unknown_stream`). */
  droppedEntries: Map<string, number>;
  droppedBytes: Map<string, number>;
  /** Batches tried again. */
  batchRetries: number;
  /** Requests by status code (`0`: no answer), with their summed duration, seconds. */
  requests: Map<string, { count: number; seconds: number }>;
}

/** The batch being filled or sent: lines grouped by stream, in WAL order within each. */
class Batch {
  readonly streams = new Map<number, { labels: string; entries: { t: bigint; line: string; meta?: Labels }[] }>();
  entries = 0;
  bytes = 0;
  firstAt = 0;
  /** The WAL position past its last line. */
  end: WalPosition | undefined;
}

export class LogForwardQueue {
  readonly stats: ForwardStats = {
    sentEntries: 0,
    sentBytes: 0,
    encodedBytes: 0,
    droppedEntries: new Map(),
    droppedBytes: new Map(),
    batchRetries: 0,
    requests: new Map(),
  };
  private readonly client: HttpClient;
  private readonly reader: LogWalReader;
  private readonly positionFile: string;
  /** Stream label text by stream id (with the external labels), made once per stream. */
  private readonly labelText = new Map<number, string | null>();
  private settled: WalPosition | undefined;
  private savedAt: WalPosition | undefined;
  private batch = new Batch();
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly stopping = new AbortController();
  private readonly hardStop = new AbortController();
  private lastWarn = -Infinity;

  constructor(
    readonly config: LogForwardConfig,
    private readonly source: ForwardSource,
    stateDir: string,
    private readonly logger: Logger,
    private readonly pollMs = 100,
    private readonly flushDeadlineMs = 5_000,
  ) {
    this.client = new HttpClient(config.httpClient, { idleTimeoutMs: 60_000 });
    this.reader = new LogWalReader(source.walDir, (msg, f) => logger.warn(msg, { forwarder: config.name, ...f }));
    this.positionFile = path.join(stateDir, `${config.name}.position.json`);
  }

  /** The position a restart resumes from: the saved one before {@link start}, then the one below which every line is settled. */
  get settledPosition(): WalPosition | undefined {
    return this.settled ?? this.loadPosition();
  }

  /** Lines read and not yet settled (the batch being filled or sent). */
  get pendingEntries(): number {
    return this.batch.entries;
  }

  /** Damaged or unfinished WAL bytes passed over. */
  get skippedBytes(): number {
    return this.reader.skippedBytes;
  }

  start(): void {
    if (this.running) return;
    this.reader.seek(this.loadPosition(), this.source.walEnd());
    this.settled = this.savedAt = this.reader.position;
    this.running = this.run().catch((err: unknown) => this.logger.error('log forwarder stopped on an error', { forwarder: this.config.name, err }));
    this.logger.info('log forwarder started', { forwarder: this.config.name, url: this.config.url, from: this.settled });
  }

  /** Sends what is left until caught up or the flush deadline passes (see {@link run}), and saves the position. */
  async stop(): Promise<void> {
    if (!this.running || this.stopped) return;
    this.stopped = true;
    this.stopping.abort();
    const timer = setTimeout(() => this.hardStop.abort(), this.flushDeadlineMs);
    await this.running;
    clearTimeout(timer);
    this.reader.close();
    this.savePosition();
    this.client.close();
  }

  /**
   * Reads and sends until stopped. A stop sends what is left (the batch being filled and the rest of
   * the WAL) until caught up or the flush deadline passes; what is not sent then is after the saved
   * position and goes out after a restart.
   */
  private async run(): Promise<void> {
    while (!this.hardStop.signal.aborted) {
      let state: 'full' | 'caught-up';
      try {
        state = this.reader.read((id, t, line, meta, after) => this.take(id, t, line, meta, after));
      } catch (err) {
        if (this.stopped) return;
        // An unreadable WAL file (permissions, I/O): the position stays, and reading is tried again.
        this.warn('log forwarder: reading the WAL failed; trying again', { err: (err as Error).message });
        await abortableSleep(1000, this.stopping.signal);
        continue;
      }
      const b = this.batch;
      const waited = b.entries > 0 && (this.stopped || performance.now() - b.firstAt >= this.config.batchWaitMs);
      if (state === 'full' || waited) {
        await this.sendBatch(b);
        continue;
      }
      if (b.entries === 0 && b.end) this.settle(b); // only lines of unknown streams: settled at once
      if (this.stopped) return;
      const wait = b.entries > 0 ? Math.min(this.pollMs, this.config.batchWaitMs - (performance.now() - b.firstAt)) : this.pollMs;
      await abortableSleep(Math.max(1, wait), this.stopping.signal);
    }
  }

  /** Adds a line to the batch; false when it is full (a line that does not fit waits for the next). */
  private take(id: number, t: bigint, line: string, meta: Labels | undefined, after: WalPosition): boolean {
    const b = this.batch;
    const size = Buffer.byteLength(line);
    if (b.entries > 0 && b.bytes + size > this.config.batchSizeBytes) return false;
    const labels = this.labelsOf(id);
    if (labels === null) {
      this.count(this.stats.droppedEntries, 'unknown_stream', 1);
      this.count(this.stats.droppedBytes, 'unknown_stream', size);
    } else {
      let s = b.streams.get(id);
      if (!s) b.streams.set(id, (s = { labels, entries: [] }));
      s.entries.push(meta ? { t, line, meta } : { t, line });
      if (b.entries++ === 0) b.firstAt = performance.now();
      b.bytes += size;
    }
    b.end = after;
    return true;
  }

  /** The stream's label text as pushed, or null for a stream the store does not know. */
  private labelsOf(id: number): string | null {
    let text = this.labelText.get(id);
    if (text !== undefined) return text;
    const own = this.source.streamLabels(id);
    text = own ? formatStreamSelector(withExternal(own, this.config.externalLabels)) : null;
    this.labelText.set(id, text);
    return text;
  }

  /** Sends a batch until it is settled (sent, or dropped for good) or the stop deadline passes. */
  private async sendBatch(b: Batch): Promise<void> {
    const body = snappyEncode(encodeLokiProto([...b.streams.values()]));
    const c = this.config;
    const backoff = new Backoff(c.minBackoffMs, c.maxBackoffMs);
    for (let attempt = 1; ; attempt++) {
      if (this.hardStop.signal.aborted) return; // not settled: sent again after a restart
      this.stats.encodedBytes += body.length;
      const began = performance.now();
      let status = 0;
      let retryAfterMs: number | undefined;
      let detail = '';
      try {
        const res = await this.client.request('POST', c.url, {
          headers: {
            ...c.headers,
            ...(c.tenantId ? { 'x-scope-orgid': c.tenantId } : {}),
            'content-type': 'application/x-protobuf',
            'user-agent': 'Vigil/log-forwarder',
          },
          body,
          timeoutMs: c.timeoutMs,
          signal: this.hardStop.signal,
          truncateBodyAt: 64 * 1024,
        });
        status = res.status;
        detail = res.body.toString('utf8', 0, Math.min(res.body.length, 512));
        retryAfterMs = parseRetryAfter(res.headers['retry-after']);
      } catch (err) {
        detail = (err as Error).message;
      }
      const r = this.stats.requests.get(String(status)) ?? { count: 0, seconds: 0 };
      r.count++;
      r.seconds += (performance.now() - began) / 1000;
      this.stats.requests.set(String(status), r);
      const verdict = sendVerdict(status, !c.dropRateLimitedBatches);
      if (verdict === 'sent') {
        this.stats.sentEntries += b.entries;
        this.stats.sentBytes += b.bytes;
        return this.settle(b);
      }
      if (verdict === 'drop' || (c.maxRetries > 0 && attempt >= c.maxRetries)) {
        const reason = verdict === 'retry' ? 'max_retries' : status === 429 ? 'rate_limited' : 'ingester_error';
        this.count(this.stats.droppedEntries, reason, b.entries);
        this.count(this.stats.droppedBytes, reason, b.bytes);
        this.warn('log forwarder: a batch was dropped', { status, reason, entries: b.entries, detail });
        return this.settle(b);
      }
      if (this.hardStop.signal.aborted) return;
      this.stats.batchRetries++;
      const doubled = backoff.next();
      const waitMs = retryAfterMs ?? doubled;
      this.warn('log forwarder: pushing failed; retrying with backoff', { status: status || undefined, detail, backoffMs: waitMs });
      await abortableSleep(waitMs, this.hardStop.signal);
    }
  }

  /** Everything up to the batch's end is settled: saved, and a fresh batch started. */
  private settle(b: Batch): void {
    if (b.end) this.settled = b.end;
    this.batch = new Batch();
    this.savePosition();
  }

  private count(m: Map<string, number>, reason: string, n: number): void {
    m.set(reason, (m.get(reason) ?? 0) + n);
  }

  private loadPosition(): WalPosition | undefined {
    const p = readPosition(this.positionFile);
    if (!p) return undefined;
    if (p.url !== this.config.url) {
      this.logger.info('log forwarder: the url changed; starting with new lines', { forwarder: this.config.name });
      return undefined;
    }
    return p.entry ? { segment: p.segment, offset: p.offset, entry: p.entry } : { segment: p.segment, offset: p.offset };
  }

  private savePosition(): void {
    const p = this.settled;
    if (!p || (this.savedAt && comparePositions(this.savedAt, p) === 0 && fs.existsSync(this.positionFile))) return;
    writePosition(this.positionFile, p, this.config.url);
    this.savedAt = p;
  }

  private warn(msg: string, fields: Record<string, unknown>): void {
    // At most one line every 10 s: an outage must not flood the log.
    const now = performance.now();
    if (now - this.lastWarn < 10_000) return;
    this.lastWarn = now;
    this.logger.warn(msg, { forwarder: this.config.name, url: this.config.url, ...fields });
  }
}

/** The stream's labels with each external label it lacks. */
function withExternal(labels: Labels, external: Labels): Labels {
  if (external.length === 0) return labels;
  const have = new Set(labels.map((l) => l.name));
  const merged: Label[] = [...labels];
  for (const l of external) if (!have.has(l.name)) merged.push(l);
  return sortLabels(merged);
}
