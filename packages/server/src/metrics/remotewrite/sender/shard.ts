/**
 * One shard of a remote_write queue: a buffer of samples that is sent as a batch when it holds
 * `max_samples_per_send` samples or its oldest sample has waited `batch_send_deadline`, one request
 * at a time, so each series (always hashed to the same shard) reaches the receiver in order.
 */
import type { EncodedLabels } from '../proto.js';
import { WriteRequestEncoder } from '../proto.js';

/**
 * A batch taken from a shard: parallel columns. `seqs` names the WAL record of each sample. Values
 * stay in a Float64Array: a plain array may canonicalise NaN and lose the staleness marker's payload.
 */
export interface Batch {
  readonly refs: number[];
  readonly ts: number[];
  readonly vs: Float64Array;
  readonly seqs: number[];
}

/** What a shard needs from its queue. */
export interface ShardOwner {
  readonly maxSamplesPerSend: number;
  readonly batchSendDeadlineMs: number;
  /** Sends a batch until it is acknowledged, dropped or the queue hard-stops. */
  send(batch: Batch): Promise<void>;
}

export class Shard {
  refs: number[] = [];
  ts: number[] = [];
  private vs = new Float64Array(256);
  seqs: number[] = [];
  /** When the oldest buffered sample arrived (performance.now()). */
  private firstAt = 0;
  private wakeUp: (() => void) | undefined;
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
    return this.refs.length;
  }

  push(ref: number, t: number, v: number, seq: number): void {
    const n = this.refs.length;
    if (n === 0) this.firstAt = performance.now();
    if (n === this.vs.length) {
      const grown = new Float64Array(n * 2);
      grown.set(this.vs);
      this.vs = grown;
    }
    this.vs[n] = v;
    this.refs.push(ref);
    this.ts.push(t);
    this.seqs.push(seq);
    // The first sample starts the deadline (the loop sleeps without one while empty); a full batch goes at once.
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
    return this.take(this.refs.length);
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = ms === Infinity ? undefined : setTimeout(() => this.wake(), ms);
      this.wakeUp = () => {
        if (t) clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const max = this.owner.maxSamplesPerSend;
    for (;;) {
      if (this.halted) return;
      const n = this.refs.length;
      if (n === 0) {
        if (this.flushing) return;
        await this.sleep(Infinity);
        continue;
      }
      if (n < max && !this.flushing) {
        const wait = this.firstAt + this.owner.batchSendDeadlineMs - performance.now();
        if (wait > 0) {
          await this.sleep(wait);
          continue;
        }
      }
      const batch = this.take(Math.min(n, max));
      this.busy = true;
      try {
        await this.owner.send(batch);
      } finally {
        this.busy = false;
      }
    }
  }

  private take(k: number): Batch {
    const n = this.refs.length;
    const vs = this.vs.slice(0, k);
    if (k === n) {
      const b = { refs: this.refs, ts: this.ts, vs, seqs: this.seqs };
      this.refs = [];
      this.ts = [];
      this.seqs = [];
      return b;
    }
    this.vs.copyWithin(0, k, n);
    const b = { refs: this.refs.splice(0, k), ts: this.ts.splice(0, k), vs, seqs: this.seqs.splice(0, k) };
    this.firstAt = performance.now();
    return b;
  }
}

/**
 * Encodes a batch as a WriteRequest: samples grouped by series in the order they came, each
 * series' labels encoded once when its series record was read.
 */
export function encodeBatch(batch: Batch, labelsOf: (ref: number) => EncodedLabels): Buffer {
  const { refs, ts, vs } = batch;
  // Two passes: count each series' samples, then fill columns made at their size.
  const counts = new Map<number, number>();
  for (const ref of refs) counts.set(ref, (counts.get(ref) ?? 0) + 1);
  const cols = new Map<number, { n: number; ts: Float64Array; vs: Float64Array }>();
  for (const [ref, n] of counts) cols.set(ref, { n: 0, ts: new Float64Array(n), vs: new Float64Array(n) });
  for (let i = 0; i < refs.length; i++) {
    const c = cols.get(refs[i]!)!;
    c.ts[c.n] = ts[i]!;
    c.vs[c.n++] = vs[i]!;
  }
  const enc = new WriteRequestEncoder();
  for (const [ref, c] of cols) enc.addSeries(labelsOf(ref), c.ts, c.vs);
  return enc.finish();
}
