/**
 * Native histograms in binary operators and aggregations at one step, after Prometheus'
 * `vectorElemBinop` and the histogram branches of `aggregation` in `promql/engine.go`, with the
 * annotations (warnings, infos) Prometheus gives when it has to drop a sample.
 */
import { alignHistograms, combinedHint, type FloatHistogram, HistogramSchemaError, type HistogramOpNotes } from '../model/histogram.js';
import { kahanMean, kahanSum } from './numeric.js';
import { trimHistogram } from '../model/histogram_trim.js';
import { getLabel, METRIC_NAME, type Labels } from '../model/labels.js';
import type { StepSample } from './series.js';

/** Where annotations go. */
export interface Annotate {
  warn(msg: string): void;
  info(msg: string): void;
}

/** Prometheus' annotation texts about histograms. */
export const HIST_NOTES = {
  mixedExpCustom: (name: string): string =>
    `PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${JSON.stringify(name)}`,
  mixedFloatsHistograms: (name: string): string => `PromQL warning: encountered a mix of histograms and floats for metric name ${JSON.stringify(name)}`,
  mixedFloatsHistogramsAgg: 'PromQL warning: encountered a mix of histograms and floats for aggregation',
  counterResetCollision: (what: string): string => `PromQL warning: conflicting counter resets during histogram ${what}`,
  reconciled: (what: string): string => `PromQL info: mismatched custom buckets were reconciled during ${what}`,
  ignoredInAgg: (op: string): string => `PromQL info: ignored histogram in ${op} aggregation`,
  incompatibleTypes: (op: string, l: string, r: string): string =>
    `PromQL info: incompatible sample types encountered for binary operator ${JSON.stringify(op)}: ${l} ${op} ${r}`,
  notCounter: (name: string): string => `PromQL warning: this native histogram metric is not a counter: ${JSON.stringify(name)}`,
  notGauge: (name: string): string => `PromQL warning: this native histogram metric is not a gauge: ${JSON.stringify(name)}`,
};

function nameOf(metric: Labels): string {
  return getLabel(metric, METRIC_NAME);
}

/**
 * The sum (or mean) of histograms, field by field and bucket by bucket with Kahan–Babuška
 * compensation, as Prometheus 3 sums them in `sum`, `avg`, `sum_over_time` and `avg_over_time`
 * (a mean switches to an incremental one where a sum would overflow). Throws
 * {@link HistogramSchemaError} for exponential with custom buckets.
 */
export function sumHistograms(hs: readonly FloatHistogram[], mean: boolean, notes: HistogramOpNotes): FloatHistogram {
  const al = alignHistograms(hs, notes);
  const n = al.length;
  const agg = (vals: number[]): number => (mean ? kahanMean(vals, 0, n) : kahanSum(vals, 0, n));
  // Any gauge makes the result a gauge; a reset and a not-reset anywhere in the group conflict.
  let hint = al[0]!.counterResetHint;
  for (let i = 1; i < n; i++) hint = combinedHint(hint, al[i]!.counterResetHint);
  if (al.some((h) => h.counterResetHint === 'gauge')) hint = 'gauge';
  if (al.some((h) => h.counterResetHint === 'reset') && al.some((h) => h.counterResetHint === 'not_reset')) notes.counterResetCollision = true;
  const maps = al.map((h) => h.bucketMaps());
  const fold = (side: 'pos' | 'neg'): Map<number, number> => {
    const keys = new Set<number>();
    for (const m of maps) for (const k of m[side].keys()) keys.add(k);
    const out = new Map<number, number>();
    for (const k of keys) out.set(k, agg(maps.map((m) => m[side].get(k) ?? 0)));
    return out;
  };
  return al[0]!.withBuckets(fold('pos'), fold('neg'), {
    counterResetHint: hint,
    count: agg(al.map((h) => h.count)),
    sum: agg(al.map((h) => h.sum)),
    zeroCount: agg(al.map((h) => h.zeroCount)),
  });
}

/** Reports what an addition or subtraction noticed. */
export function reportNotes(notes: HistogramOpNotes, what: string, ann: Annotate): void {
  if (notes.reconciled) ann.info(HIST_NOTES.reconciled(what));
  if (notes.counterResetCollision) ann.warn(HIST_NOTES.counterResetCollision(what));
}

/**
 * `lhs op rhs` where at least one side is a histogram. Returns the value (a float for `bool`
 * comparisons), or undefined when the element is dropped (annotated where Prometheus does).
 * `lh`/`rh` are the histograms of the sides, `lv`/`rv` their floats otherwise.
 */
export function histogramBinop(
  op: string,
  lv: number,
  lh: FloatHistogram | undefined,
  rv: number,
  rh: FloatHistogram | undefined,
  returnBool: boolean,
  metric: Labels,
  ann: Annotate,
): { v: number; h?: FloatHistogram } | undefined {
  const typ = (h: FloatHistogram | undefined): string => (h === undefined ? 'float' : 'histogram');
  const incompatible = (): undefined => {
    ann.info(HIST_NOTES.incompatibleTypes(op, typ(lh), typ(rh)));
    return undefined;
  };
  if (lh !== undefined && rh !== undefined) {
    const notes: HistogramOpNotes = {};
    try {
      switch (op) {
        case '+': {
          const h = lh.add(rh, notes);
          reportNotes(notes, 'addition', ann);
          return { v: NaN, h };
        }
        case '-': {
          // A difference is a gauge, whatever it was taken of.
          const h = lh.sub(rh, notes).with({ counterResetHint: 'gauge' });
          reportNotes(notes, 'subtraction', ann);
          return { v: NaN, h };
        }
        case '==':
        case '!=': {
          const eq = lh.equals(rh);
          const keep = op === '==' ? eq : !eq;
          if (returnBool) return { v: keep ? 1 : 0 };
          return keep ? { v: NaN, h: lh } : undefined;
        }
        default:
          return incompatible();
      }
    } catch (err) {
      if (!(err instanceof HistogramSchemaError)) throw err;
      ann.warn(HIST_NOTES.mixedExpCustom(nameOf(metric)));
      return undefined;
    }
  }
  if (op === '</' || op === '>/') {
    // Trimming applies to a histogram on the left and a float on the right; floats are dropped.
    if (lh === undefined || rh !== undefined) return incompatible();
    return { v: NaN, h: trimHistogram(lh, rv, op === '</') };
  }
  if (lh !== undefined) {
    if (op === '*') return { v: NaN, h: lh.mul(rv) };
    if (op === '/') return { v: NaN, h: lh.div(rv) };
    return incompatible();
  }
  if (rh !== undefined) {
    if (op === '*') return { v: NaN, h: rh.mul(lv) };
    return incompatible();
  }
  return undefined;
}

/**
 * The histogram part of `sum`/`avg` and the operators that ignore histograms. Returns the output
 * for a group whose members include histograms, or undefined to leave the group to float code
 * (after removing its histograms from `samples` where the operator ignores them).
 */
export function aggregateHistograms(
  op: string,
  samples: StepSample[],
  ann: Annotate,
): { handled: true; out?: { v: number; h?: FloatHistogram } } | { handled: false; floats: StepSample[] } {
  const hists = samples.filter((s) => s.h !== undefined);
  if (hists.length === 0) return { handled: false, floats: samples };
  if (op === 'sum' || op === 'avg') {
    if (hists.length !== samples.length) {
      ann.warn(HIST_NOTES.mixedFloatsHistogramsAgg);
      return { handled: true };
    }
    const notes: HistogramOpNotes = {};
    let acc: FloatHistogram;
    try {
      acc = sumHistograms(
        hists.map((s) => s.h!),
        op === 'avg',
        notes,
      );
    } catch (err) {
      if (!(err instanceof HistogramSchemaError)) throw err;
      ann.warn(HIST_NOTES.mixedExpCustom(nameOf(hists[0]!.metric)));
      return { handled: true };
    }
    reportNotes(notes, 'aggregation', ann);
    return { handled: true, out: { v: NaN, h: acc } };
  }
  if (op === 'count' || op === 'group') return { handled: false, floats: samples };
  ann.info(HIST_NOTES.ignoredInAgg(op));
  return { handled: false, floats: samples.filter((s) => s.h === undefined) };
}
