/** The batches of {@link AgentStorage}: each sample checked on append, the batch logged to the WAL on commit. */
import { formatLabels, type Labels } from '../../core/model/labels.js';
import { StorageError } from '../../core/errors.js';
import type { Appender, SeriesRef } from '../storage/interface.js';
import { RecordType, WalRecordWriter } from './wal.js';
import { grow, isoTime, orderRefusal, sameValue } from './append_checks.js';
import type { AgentSeries, AgentStorage } from './agent.js';

let nextBatchId = 1;

/** One record writer serves every appender: commits run to completion one at a time. */
const walWriter = new WalRecordWriter();

/** A batch: checks each sample on append, logs the batch to the WAL on commit. */
export class AgentAppender implements Appender {
  private readonly id = nextBatchId++;
  private series: AgentSeries[];
  private ts: Float64Array;
  // A Float64Array keeps NaN payloads (the staleness marker) that a plain array may normalise.
  private vs: Float64Array;
  private n = 0;
  private readonly created: AgentSeries[] = [];
  private readonly maxT: number;

  constructor(private readonly store: AgentStorage) {
    this.maxT = store.now() + store.maxFutureMs;
    const spare = spareBuffers.pop();
    this.series = spare?.series ?? [];
    this.ts = spare?.ts ?? new Float64Array(256);
    this.vs = spare?.vs ?? new Float64Array(256);
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
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
    }
    if (t <= s.batchT) {
      if (t === s.batchT && sameValue(v, s.batchV)) return s.ref;
      throw orderRefusal(t, s.batchT, s.labels);
    }
    s.batchT = t;
    s.batchV = v;
    if (this.n === this.vs.length) {
      this.ts = grow(this.ts);
      this.vs = grow(this.vs);
    }
    this.series[this.n] = s;
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
    return s.ref;
  }

  commit(): void {
    const { n, series, ts, vs, store } = this;
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
    rw.begin(RecordType.samples);
    for (let i = 0; i < n; i++) {
      const s = series[i]!;
      if (ts[i]! <= s.lastT) outOfOrder++;
      else rw.sample(s.ref, ts[i]!, vs[i]!);
    }
    rw.end();
    try {
      store.wal.write(rw.w.view());
    } catch (err) {
      for (const s of fresh) s.logged = false;
      throw err;
    }
    for (let i = 0; i < n; i++) {
      const s = series[i]!;
      if (ts[i]! > s.lastT) store.setLast(s, ts[i]!, vs[i]!);
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
    for (let i = 0; i < this.n; i++) this.series[i]!.batch = 0;
    // Cut rather than emptied, and handed to the next appender: a scrape of 10,000 series would
    // otherwise grow fresh arrays push by push every time, all garbage a moment later.
    if (this.series.length > this.n) this.series.length = this.n;
    this.n = 0;
    this.created.length = 0;
    if (this.ts.length > 0 && spareBuffers.length < 16) spareBuffers.push({ series: this.series, ts: this.ts, vs: this.vs });
    this.series = [];
    this.ts = NO_SAMPLES;
    this.vs = NO_SAMPLES;
  }
}

const NO_SAMPLES = new Float64Array(0);

/** Sample buffers of finished appenders (commits and rollbacks run one at a time on this thread). */
const spareBuffers: Array<{ series: AgentSeries[]; ts: Float64Array; vs: Float64Array }> = [];
