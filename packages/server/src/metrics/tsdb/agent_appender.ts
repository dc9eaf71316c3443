/** The batches of {@link AgentStorage}: each sample checked on append, the batch logged to the WAL on commit. */
import { formatLabels, type Labels } from '../../core/model/labels.js';
import { StorageError } from '../../core/errors.js';
import type { Appender, SeriesRef } from '../storage/interface.js';
import { RecordType, WalRecordWriter } from './wal.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { BatchSamples, isoTime, logMixedBatch, orderRefusal, sameValue, type SpareSamples } from './append_batch.js';
import type { AgentSeries, AgentStorage } from './agent.js';

let nextBatchId = 1;

/** One record writer serves every appender: commits run to completion one at a time. */
const walWriter = new WalRecordWriter();

/** A batch: checks each sample on append, logs the batch to the WAL on commit. */
export class AgentAppender implements Appender {
  private readonly id = nextBatchId++;
  private readonly batch = new BatchSamples<AgentSeries>(spareBuffers);
  private readonly created: AgentSeries[] = [];
  private readonly maxT: number;
  /** Native-histogram samples of the batch by position (rare: kept apart from the float buffers). */
  private hists: Map<number, FloatHistogram> | undefined;

  constructor(private readonly store: AgentStorage) {
    this.maxT = store.now() + store.maxFutureMs;
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    return this.add(ref, labels, t, v, undefined);
  }

  /** Adds a native-histogram sample, logged in the WAL's histogram records on commit and sent from there. */
  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram): SeriesRef {
    const problem = h.validate();
    if (problem !== undefined) throw new StorageError('invalid_argument', `${problem} for ${formatLabels(labels)}`);
    return this.add(ref, labels, t, NaN, h);
  }

  private add(ref: SeriesRef, labels: Labels, t: number, v: number, h: FloatHistogram | undefined): SeriesRef {
    const store = this.store;
    let s = ref !== 0 ? store.series(ref) : undefined;
    if (s === undefined) {
      const got = store.getOrCreate(labels);
      s = got.series;
      if (got.created) this.created.push(s);
    }
    if (!Number.isSafeInteger(t)) throw new StorageError('invalid_argument', `invalid timestamp ${t} for ${formatLabels(s.labels)}`);
    if (t > this.maxT)
      throw new StorageError(
        'too_new',
        `out of bounds: sample at ${isoTime(t)} for ${formatLabels(s.labels)} is more than ${store.maxFutureMs / 1000}s ahead of the agent's clock`,
      );
    if (s.batch !== this.id) {
      s.batch = this.id;
      s.batchT = s.lastT;
      s.batchV = s.lastV;
      s.batchH = s.lastH;
    }
    if (t <= s.batchT) {
      const resend = h === undefined ? s.batchH === undefined && sameValue(v, s.batchV) : s.batchH !== undefined && h.equals(s.batchH);
      if (t === s.batchT && resend) return s.ref;
      throw orderRefusal(t, s.batchT, s.labels);
    }
    s.batchT = t;
    s.batchV = v;
    s.batchH = h;
    if (h !== undefined) (this.hists ??= new Map()).set(this.batch.n, h);
    this.batch.push(s, t, v);
    return s.ref;
  }

  /** The agent takes samples in order only: the same as {@link append}. */
  appendInOrder(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    return this.append(ref, labels, t, v);
  }

  commit(): void {
    const { n, series, ts, vs } = this.batch;
    const store = this.store;
    if (n === 0) return this.reset();
    const rw = walWriter;
    rw.w.reset();
    rw.begin(RecordType.series);
    const fresh: AgentSeries[] = [];
    for (let i = 0; i < n; i++) {
      const s = series[i]!;
      if (!s.logged) {
        rw.series(s.ref, s.labels);
        s.logged = true;
        fresh.push(s);
      }
    }
    rw.end();
    // A sample another batch overtook since its append (a later one committed first) is not
    // logged: the WAL is what is sent, and a receiver refuses samples out of order.
    let outOfOrder = 0;
    const hists = this.hists;
    if (hists === undefined) {
      rw.begin(RecordType.samples);
      for (let i = 0; i < n; i++) {
        const s = series[i]!;
        if (ts[i]! <= s.lastT) outOfOrder++;
        else rw.sample(s.ref, ts[i]!, vs[i]!);
      }
      rw.end();
    } else {
      const overtaken = (i: number): boolean => ts[i]! <= series[i]!.lastT;
      for (let i = 0; i < n; i++) if (overtaken(i)) outOfOrder++;
      logMixedBatch(rw, n, series, ts, vs, hists, overtaken);
    }
    try {
      store.wal.write(rw.w.view());
    } catch (err) {
      for (const s of fresh) s.logged = false;
      throw err;
    }
    for (let i = 0; i < n; i++) {
      const s = series[i]!;
      if (ts[i]! > s.lastT) store.setLast(s, ts[i]!, vs[i]!, hists?.get(i));
    }
    store.countAppended(n - outOfOrder, outOfOrder);
    this.reset();
  }

  rollback(): void {
    const mine = this.created.filter((s) => s.batch === this.id || s.batch === 0);
    this.reset();
    for (const s of mine) this.store.drop(s);
  }

  private reset(): void {
    this.hists = undefined;
    this.batch.release();
    this.created.length = 0;
  }
}

/** Sample buffers of finished appenders (commits and rollbacks run one at a time on this thread). */
const spareBuffers: Array<SpareSamples<AgentSeries>> = [];
