/**
 * The samples of a range aggregation: each matching line becomes a (time, value) sample of its
 * output series (a count of 1, its bytes, or its `unwrap`ped value). Count-only queries over plain
 * `|=` filters let the store count in its columns instead of decoding lines.
 */
import { labelsKey, type Labels } from '../../core/model/labels.js';
import type { Pacer, Work } from '../../core/util/pace.js';
import type { LogQueryable } from '../storage/interface.js';
import type { MetricExpr } from './ast.js';
import { LogqlExecError } from './errors.js';
import { groupLabels } from './grouping.js';
import { Pipeline } from './pipeline.js';

/** A range aggregation node. */
export type RangeExpr = Extract<MetricExpr, { kind: 'range' }>;

/** The raw samples of one output series, in time order (ms). */
export interface SampleSeries {
  labels: Labels;
  ts: number[];
  vs: number[];
  /** Every value is 1 (count-only queries): `vs` is left empty. */
  ones: boolean;
}

const NS_PER_MS = 1_000_000n;

interface Collecting extends SampleSeries {
  sorted: boolean;
}

/** How far a query may go while reading lines. */
export interface ReadBudget {
  readonly pace: Pacer;
  /** Counts lines and bytes read; throws past the query's byte budget. */
  read(lines: number, bytes: number): void;
}

/**
 * Selects the lines a range aggregation needs for windows ending at `firstEnd` … `lastEnd` (ms,
 * after `offset`) and turns them into sample series, at most `maxSeries` of them. A generator:
 * it yields between streams and every few thousand lines when the pacer says so.
 */
export function* collectSamples(
  store: LogQueryable,
  e: RangeExpr,
  firstEnd: number,
  lastEnd: number,
  maxSeries: number,
  budget: ReadBudget,
): Work<SampleSeries[]> {
  const pace = budget.pace;
  const p = new Pipeline(e.log.stages);
  const hint = p.hint();
  const start = BigInt(Math.floor(firstEnd - e.rangeMs)) * NS_PER_MS;
  const end = BigInt(Math.floor(lastEnd)) * NS_PER_MS + 1n;
  const byKey = new Map<string, Collecting>();
  const unwrap = p.unwrapAt >= 0;
  const byBytes = e.fn === 'bytes_over_time' || e.fn === 'bytes_rate';
  const needles = countOnlyNeedles(e);
  /** The series of `key`, made by `make` (and counted against the limit) when it is new. */
  const seriesFor = (key: string, make: () => Collecting): { ser: Collecting; fresh: boolean } => {
    const ser = byKey.get(key);
    if (ser) return { ser, fresh: false };
    if (byKey.size >= maxSeries) throw new LogqlExecError(`maximum of series (${maxSeries}) reached for a single query`);
    const made = make();
    byKey.set(key, made);
    return { ser: made, fresh: true };
  };
  let lines = 0;
  for (const s of store.selectStreams(e.log.matchers, start, end)) {
    if (pace.due()) {
      pace.check();
      yield;
    }
    const streamKey = labelsKey(s.labels);
    if (needles) {
      const { times, bytes } = store.matchTimes(s, start, end, needles, hint.tokens, true);
      budget.read(times.length, bytes);
      if (!times.length) continue;
      const labels = e.grouping ? groupLabels(s.labels, e.grouping) : s.labels;
      const key = labels === s.labels ? streamKey : labelsKey(labels);
      // The store's times are sorted: a new series adopts them.
      const { ser, fresh } = seriesFor(key, () => ({ labels, ts: times, vs: [], sorted: true, ones: true }));
      if (!fresh) appendTimes(ser, times);
      continue;
    }
    for (const ent of store.entries(s, start, end, 'forward', hint)) {
      budget.read(1, ent.line.length);
      if ((++lines & 1023) === 0 && pace.due()) {
        pace.check();
        yield;
      }
      // Lines whose `unwrap` value does not convert carry `__error__`; the pipeline drops them.
      const out = p.run(ent.line, ent.t, s.labels, ent.meta);
      if (!out) continue;
      const labels = e.grouping ? groupLabels(out.labels, e.grouping) : out.labels;
      const key = labels === s.labels ? streamKey : labelsKey(labels);
      const { ser } = seriesFor(key, () => ({ labels, ts: [], vs: [], sorted: true, ones: false }));
      const t = Number(ent.t / 1000n) / 1000;
      if (ser.ts.length && t < ser.ts[ser.ts.length - 1]!) ser.sorted = false;
      ser.ts.push(t);
      ser.vs.push(unwrap ? out.value : byBytes ? Buffer.byteLength(ent.line) : 1);
    }
  }
  const out: SampleSeries[] = [];
  for (const ser of byKey.values()) {
    if (!ser.sorted) sortByTime(ser);
    out.push({ labels: ser.labels, ts: ser.ts, vs: ser.vs, ones: ser.ones });
  }
  return out;
}

function appendTimes(ser: Collecting, times: number[]): void {
  for (const t of times) {
    if (ser.ts.length && t < ser.ts[ser.ts.length - 1]!) ser.sorted = false;
    ser.ts.push(t);
  }
}

/** Several streams grouped into one series interleave in time: sort, keeping values with times. */
function sortByTime(ser: Collecting): void {
  const idx = ser.ts.map((_, i) => i).sort((a, b) => ser.ts[a]! - ser.ts[b]!);
  ser.ts = idx.map((i) => ser.ts[i]!);
  if (!ser.ones) ser.vs = idx.map((i) => ser.vs[i]!);
}

/**
 * The needles of a range aggregation whose value is a function of the line count alone over a
 * pipeline of `|= "text"` filters only, or undefined when the lines themselves are needed.
 */
function countOnlyNeedles(e: RangeExpr): string[] | undefined {
  if (e.fn !== 'count_over_time' && e.fn !== 'rate' && e.fn !== 'absent_over_time') return undefined;
  const needles: string[] = [];
  for (const st of e.log.stages) {
    if (st.kind !== 'lineFilter' || st.op !== '|=' || st.values.length !== 1) return undefined;
    needles.push(st.values[0]!);
  }
  return needles;
}
