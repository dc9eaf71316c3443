/**
 * One shard of a remote_write queue: a buffer of samples that is sent as a batch when it holds
 * `max_samples_per_send` samples or its oldest sample has waited `batch_send_deadline`, one request
 * at a time, so each series (always hashed to the same shard) reaches the receiver in order.
 */
import type { FloatHistogram } from '../../../core/model/histogram.js';
import { ByteWriter } from '../../../core/util/bytes.js';
import { writeHistogramMessage } from '../histogram_proto.js';
import { putVarint, varintSize, type EncodedLabels } from '../proto.js';
import type { QueueConfig } from './config.js';
import { Doze } from './doze.js';

/**
 * A batch taken from a shard: parallel columns. `seqs` names the WAL record of each sample. Values
 * stay in a Float64Array: a plain array may canonicalise NaN and lose the staleness marker's payload.
 */
export interface Batch {
  readonly refs: ArrayLike<number>;
  readonly ts: ArrayLike<number>;
  readonly vs: Float64Array;
  readonly seqs: ArrayLike<number>;
  /** Native histograms by position (undefined: a float sample); absent when the batch has none. */
  readonly hs?: Array<FloatHistogram | undefined>;
}

/** A shard's or a batch's four columns, with room for `refs.length` samples. */
interface Columns {
  refs: Float64Array;
  ts: Float64Array;
  vs: Float64Array;
  seqs: Float64Array;
}

function columns(capacity: number): Columns {
  return { refs: new Float64Array(capacity), ts: new Float64Array(capacity), vs: new Float64Array(capacity), seqs: new Float64Array(capacity) };
}

/** What a shard needs from its queue. */
export interface ShardOwner {
  readonly maxSamplesPerSend: number;
  readonly batchSendDeadlineMs: number;
  /** Sends a batch until it is acknowledged, dropped or the queue hard-stops. */
  send(batch: Batch): Promise<void>;
}

export class Shard {
  /**
   * The buffered samples, in columns that are kept from batch to batch, and the columns of sent
   * batches kept for the next ones: samples wait up to batch_send_deadline, longer than the young
   * generation keeps anything, so arrays made per batch all ended as old-generation garbage (the
   * agent's RSS crept up between major collections).
   */
  private buf: Columns = columns(256);
  private n = 0;
  private readonly spare: Columns[] = [];
  /** Histograms by position, made when the first one arrives (most queues never see one). */
  private hs: Array<FloatHistogram | undefined> | undefined;
  /** When the oldest buffered sample arrived (performance.now()). */
  private firstAt = 0;
  private readonly doze = new Doze();
  /** Send what is buffered without waiting for the deadline, then end (stop). */
  private flushing = false;
  /** End once no request is in flight, keeping what is buffered (resharding takes it over). */
  private halted = false;
  /** A request is in flight. */
  busy = false;
  readonly done: Promise<void>;

  constructor(private readonly owner: ShardOwner) {
    this.done = this.run();
  }

  get length(): number {
    return this.n;
  }

  /** Buffers a sample, or with `h` a histogram sample (`v` is then NaN). */
  push(ref: number, t: number, v: number, seq: number, h?: FloatHistogram): void {
    const n = this.n;
    if (h !== undefined) {
      this.hs ??= [];
      this.hs.length = n;
      this.hs.push(h);
    } else if (this.hs !== undefined) this.hs.push(undefined);
    if (n === 0) this.firstAt = performance.now();
    if (n === this.buf.refs.length) {
      const grown = columns(n * 2);
      grown.refs.set(this.buf.refs);
      grown.ts.set(this.buf.ts);
      grown.vs.set(this.buf.vs);
      grown.seqs.set(this.buf.seqs);
      this.buf = grown;
    }
    const b = this.buf;
    b.refs[n] = ref;
    b.ts[n] = t;
    b.vs[n] = v;
    b.seqs[n] = seq;
    this.n = n + 1;
    if (n === 0 || n + 1 === this.owner.maxSamplesPerSend) this.wake();
  }

  /** Sends the rest and ends; `done` resolves when the last batch is settled. */
  flushAndEnd(): Promise<void> {
    this.flushing = true;
    this.wake();
    return this.done;
  }

  /**
   * Ends the shard once its request in flight (if any) is settled, and hands over what it still
   * buffers, in order. Resharding re-hashes that into the new shards instead of waiting for a
   * slow receiver to take it all through the old ones.
   */
  async halt(): Promise<Batch> {
    this.halted = true;
    this.wake();
    await this.done;
    return this.take(this.n).batch;
  }

  wake(): void {
    this.doze.wake();
  }

  private async run(): Promise<void> {
    const max = this.owner.maxSamplesPerSend;
    for (;;) {
      if (this.halted) return;
      const n = this.n;
      if (n === 0) {
        if (this.flushing) return;
        await this.doze.sleep(Infinity);
        continue;
      }
      if (n < max && !this.flushing) {
        const wait = this.firstAt + this.owner.batchSendDeadlineMs - performance.now();
        if (wait > 0) {
          await this.doze.sleep(wait);
          continue;
        }
      }
      const { batch, cols } = this.take(Math.min(n, max));
      this.busy = true;
      try {
        await this.owner.send(batch);
      } finally {
        this.busy = false;
      }
      // Settled (sent, dropped or abandoned at a hard stop): its columns take the next batch.
      if (this.spare.length < 2) this.spare.push(cols);
    }
  }

  /** The first `k` buffered samples as a batch, copied into spare columns; the rest move to the front. */
  private take(k: number): { batch: Batch; cols: Columns } {
    const n = this.n;
    let cols = this.spare.pop();
    if (!cols || cols.refs.length < k) cols = columns(Math.max(k, 256));
    const b = this.buf;
    cols.refs.set(b.refs.subarray(0, k));
    cols.ts.set(b.ts.subarray(0, k));
    cols.vs.set(b.vs.subarray(0, k));
    cols.seqs.set(b.seqs.subarray(0, k));
    if (k < n) {
      b.refs.copyWithin(0, k, n);
      b.ts.copyWithin(0, k, n);
      b.vs.copyWithin(0, k, n);
      b.seqs.copyWithin(0, k, n);
      this.firstAt = performance.now();
    }
    this.n = n - k;
    const hs = this.hs?.splice(0, k);
    if (this.n === 0) this.hs = undefined;
    const batch: Batch = {
      refs: cols.refs.subarray(0, k),
      ts: cols.ts.subarray(0, k),
      vs: cols.vs.subarray(0, k),
      seqs: cols.seqs.subarray(0, k),
      ...(hs ? { hs } : {}),
    };
    return { batch, cols };
  }
}

/**
 * Encodes a batch as a WriteRequest: samples grouped by series in the order the series first
 * appear (each series' samples in batch order), labels encoded once when its series record was
 * read. Written straight into one buffer sized by a first pass: a batch is mostly one or two
 * samples for each of up to max_samples_per_send series, and arrays per series would cost more
 * than the encoding. With `scratch`, written into its buffer (grown as needed) and returned as a
 * view of it, valid until the next call with the same scratch.
 */
export function encodeBatch(batch: Batch, labelsOf: (ref: number) => EncodedLabels, scratch?: { buf: Buffer }): Buffer {
  const { refs, ts, vs, hs } = batch;
  // Histogram messages are encoded first, to size the buffer (rare: most batches have none).
  const hmsgs = hs?.map((h, i) => (h === undefined ? undefined : histogramMessage(h, ts[i]!)));
  const n = refs.length;
  // Series in order of first appearance, each a linked list of sample indexes through `next`.
  const groupOf = new Map<number, number>();
  const first: number[] = [];
  const last: number[] = [];
  const next = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const g = groupOf.get(refs[i]!);
    if (g === undefined) {
      groupOf.set(refs[i]!, first.length);
      first.push(i);
      last.push(i);
    } else {
      next[last[g]!] = i;
      last[g] = i;
    }
  }
  const labels: EncodedLabels[] = [];
  const bodies: number[] = [];
  let total = 0;
  for (let g = 0; g < first.length; g++) {
    const lb = labelsOf(refs[first[g]!]!);
    let body = lb.length;
    for (let i = first[g]!; i >= 0; i = next[i]!) {
      const inner = hmsgs?.[i]?.length ?? 10 + varintSize(ts[i]!); // double (tag + 8) and timestamp (tag + varint)
      body += 1 + varintSize(inner) + inner;
    }
    labels.push(lb);
    bodies.push(body);
    total += 1 + varintSize(body) + body;
  }
  if (scratch && scratch.buf.length < total) scratch.buf = Buffer.allocUnsafeSlow(total);
  const buf = scratch ? scratch.buf.subarray(0, total) : Buffer.allocUnsafe(total);
  let p = 0;
  for (let g = 0; g < first.length; g++) {
    buf[p++] = 0x0a; // WriteRequest.timeseries
    p = putVarint(buf, p, bodies[g]!);
    p += labels[g]!.copyTo(buf, p);
    for (let i = first[g]!; i >= 0; i = next[i]!) {
      const t = ts[i]!;
      const hm = hmsgs?.[i];
      if (hm !== undefined) {
        buf[p++] = 0x22; // TimeSeries.histograms
        p = putVarint(buf, p, hm.length);
        p += hm.copy(buf, p);
        continue;
      }
      buf[p++] = 0x12; // TimeSeries.samples
      p = putVarint(buf, p, 10 + varintSize(t));
      buf[p++] = 0x09; // Sample.value (double)
      buf.writeDoubleLE(vs[i]!, p);
      p += 8;
      buf[p++] = 0x10; // Sample.timestamp
      p = putVarint(buf, p, t);
    }
  }
  return buf;
}

const histogramScratch = new ByteWriter(256);

function histogramMessage(h: FloatHistogram, t: number): Buffer {
  histogramScratch.reset();
  writeHistogramMessage(histogramScratch, h, t);
  return Buffer.from(histogramScratch.view());
}

/** What the shard count is decided from. */
export interface ShardInputs {
  current: number;
  queue: QueueConfig;
  /** Samples coming in per second (smoothed). */
  inRate: number;
  /** Seconds of sending per sample, one shard (smoothed). */
  timePerSample: number;
  /** Samples buffered in the shards. */
  pending: number;
  /** Newest stored timestamp minus newest sent, in seconds. */
  delaySec: number;
}

/**
 * The shards wanted, after Prometheus' calculation: enough to send what comes in, plus 5% of the
 * backlog (what waits in the shards and in the WAL behind them) each second, within min..max.
 * A change is made only outside ±30% of the current count, and never down while the queue is
 * behind by more than a batch deadline.
 */
export function shardDecision(x: ShardInputs): { desired: number; reshard: boolean } {
  const q = x.queue;
  const backlog = Math.min(x.delaySec, 3600) * x.inRate + x.pending;
  const desired = Math.max(q.minShards, Math.min(q.maxShards, Math.ceil(x.timePerSample * (x.inRate + 0.05 * backlog))));
  if (desired >= x.current * 0.7 && desired <= x.current * 1.3) return { desired, reshard: false };
  if (desired < x.current && x.delaySec * 1000 > q.batchSendDeadlineMs) return { desired, reshard: false };
  return { desired, reshard: desired !== x.current };
}
