/**
 * What the head's appender (head.ts) and the agent's (agent_appender.ts) have alike: the buffers
 * of an open batch, and the checks on append (a sample at or before the batch's latest for its
 * series is a resend of the same value or refused; messages show timestamps as dates).
 */
import { StorageError } from '../../core/errors.js';
import { formatLabels, type Labels } from '../../core/model/labels.js';
import { isStaleNaN } from '../../core/model/value.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { RecordType, type WalRecordWriter } from './wal.js';

/** A timestamp for a message; past the range a Date can show (±275,000 years) it stays a number. */
export function isoTime(t: number): string {
  return Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : `${t} ms`;
}

/** Two float values that are one sample sent twice: equal, or both NaN of the same kind (a staleness marker or not). */
export function sameValue(a: number, b: number): boolean {
  if (a === b) return true;
  return a !== a && b !== b && isStaleNaN(a) === isStaleNaN(b);
}

/** The refusal of a sample at `t`, at or before `latest` of its series, that is not a resend of it. */
export function orderRefusal(t: number, latest: number, labels: Labels): StorageError {
  if (t === latest)
    return new StorageError('duplicate_sample', `duplicate sample for timestamp ${isoTime(t)} with a different value for ${formatLabels(labels)}`);
  return new StorageError('out_of_order', `out of order sample: ${isoTime(t)} is before the latest sample ${isoTime(latest)} of ${formatLabels(labels)}`);
}

/** Buffers handed back by a finished batch for the next one. */
export interface SpareSamples<S> {
  readonly series: S[];
  readonly ts: Float64Array;
  readonly vs: Float64Array;
}

const NO_SAMPLES = new Float64Array(0);
/** Spare buffer sets a pool keeps at most. */
const MAX_SPARES = 16;

/**
 * The samples of one open batch by position: their series, times and values. Buffers come from
 * `spares` and go back there on {@link release}, so a scrape of 10,000 series does not grow fresh
 * arrays push by push every time, all garbage a moment later.
 */
export class BatchSamples<S extends { batch: number }> {
  series: S[];
  ts: Float64Array;
  // A Float64Array keeps NaN payloads (the staleness marker) that a plain array may normalise.
  vs: Float64Array;
  n = 0;

  constructor(private readonly spares: Array<SpareSamples<S>>) {
    const spare = spares.pop();
    this.series = spare?.series ?? [];
    this.ts = spare?.ts ?? new Float64Array(256);
    this.vs = spare?.vs ?? new Float64Array(256);
  }

  push(s: S, t: number, v: number): void {
    if (this.n === this.ts.length) {
      this.ts = grow(this.ts);
      this.vs = grow(this.vs);
    }
    // By index: a spare array may still hold the series of an earlier batch past `n`.
    this.series[this.n] = s;
    this.ts[this.n] = t;
    this.vs[this.n] = v;
    this.n++;
  }

  /** Clears the batch marks of its series and hands the buffers back; pushing again starts fresh ones. */
  release(): void {
    for (let i = 0; i < this.n; i++) this.series[i]!.batch = 0;
    // Cut to this batch's length rather than emptied: an emptied array lets go of its backing
    // store. What it still points to is overwritten by the next batch.
    if (this.series.length > this.n) this.series.length = this.n;
    this.n = 0;
    if (this.ts.length > 0 && this.spares.length < MAX_SPARES) this.spares.push({ series: this.series, ts: this.ts, vs: this.vs });
    this.series = [];
    this.ts = NO_SAMPLES;
    this.vs = NO_SAMPLES;
  }
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(Math.max(256, a.length * 2));
  b.set(a);
  return b;
}

/**
 * Logs a batch holding native histograms (`hists`, by batch position): a samples or histograms
 * record per run of one kind, in batch order, so a series that switches kind within the batch
 * replays in time order. `skip(i)` leaves a position out (the agent's overtaken samples).
 */
export function logMixedBatch(
  rw: WalRecordWriter,
  n: number,
  series: ReadonlyArray<{ ref: number }>,
  ts: Float64Array,
  vs: Float64Array,
  hists: ReadonlyMap<number, FloatHistogram>,
  skip?: (i: number) => boolean,
): void {
  let open = 0;
  for (let i = 0; i < n; i++) {
    if (skip?.(i) === true) continue;
    const h = hists.get(i);
    const type = h === undefined ? RecordType.samples : RecordType.histograms;
    if (type !== open) {
      if (open !== 0) rw.end();
      rw.begin(type);
      open = type;
    }
    if (h === undefined) rw.sample(series[i]!.ref, ts[i]!, vs[i]!);
    else rw.histogram(series[i]!.ref, ts[i]!, h);
  }
  if (open !== 0) rw.end();
}
