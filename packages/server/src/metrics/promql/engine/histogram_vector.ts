/**
 * Instant-vector functions over native histograms (`histogram_count`, `_sum`, `_avg`, `_stddev`,
 * `_stdvar`, and the native halves of `histogram_quantile` and `histogram_fraction`), and the
 * helpers that keep histogram samples away from float-only functions.
 */
import type { FloatHistogram } from '../../../core/model/histogram.js';
import { getLabel, type Labels, labelsKey, METRIC_NAME } from '../../../core/model/labels.js';
import type { Annotate } from '../../../core/eval/histogram_step.js';
import type { EvalSeries, StepSample } from '../../../core/eval/series.js';
import type { StepArg } from '../../../core/eval/stepwise.js';
import { nativeQuantile, nativeVariance } from './histogram_funcs.js';

export { nativeFraction } from './histogram_funcs.js';

/** Prometheus' annotation texts for the functions here. */
export const NATIVE_NOTES = {
  mixedClassicNative: (name: string): string =>
    `PromQL warning: vector contains a mix of classic and native histograms for metric name ${JSON.stringify(name)}`,
  quantileNaN: (name: string): string => `PromQL info: input to histogram_quantile has NaN observations, result is NaN for metric name ${JSON.stringify(name)}`,
  quantileSkewed: (name: string): string =>
    `PromQL info: input to histogram_quantile has NaN observations, result is skewed higher for metric name ${JSON.stringify(name)}`,
  fractionNaN: (name: string): string =>
    `PromQL info: input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name ${JSON.stringify(name)}`,
  ignoredInMixedRange: (name: string): string =>
    `PromQL info: ignored histograms in a range containing both floats and histograms for metric name ${JSON.stringify(name)}`,
};

/** The float samples of a step's vector. */
export function floatSamples(arg: StepArg | undefined): StepSample[] {
  const vec = arg as StepSample[];
  return vec.some((s) => s.h !== undefined) ? vec.filter((s) => s.h === undefined) : vec;
}

/** A series without its histogram points. */
export function floatsOnly(s: EvalSeries): EvalSeries {
  if (s.hs === undefined) return s;
  const ts: number[] = [];
  const vs: number[] = [];
  for (let i = 0; i < s.ts.length; i++) {
    if (s.hs[i] !== undefined) continue;
    ts.push(s.ts[i]!);
    vs.push(s.vs[i]!);
  }
  return { metric: s.metric, ts, vs, dropName: s.dropName };
}

/** The `histogram_*` functions that read one property of a native histogram. */
export const HISTOGRAM_PROPS: Readonly<Record<string, (h: FloatHistogram) => number>> = {
  histogram_count: (h) => h.count,
  histogram_sum: (h) => h.sum,
  histogram_avg: (h) => h.sum / h.count,
  histogram_stdvar: (h) => nativeVariance(h),
  histogram_stddev: (h) => Math.sqrt(nativeVariance(h)),
};

/** `histogram_quantile` of one native histogram, with Prometheus' infos about NaN observations. */
export function nativeQuantileSample(q: number, h: FloatHistogram, metric: Labels, ann: Annotate): number {
  const r = nativeQuantile(q, h);
  const name = getLabel(metric, METRIC_NAME);
  if (r.nanResult) ann.info(NATIVE_NOTES.quantileNaN(name));
  else if (r.nanObservations && !Number.isNaN(r.value)) ann.info(NATIVE_NOTES.quantileSkewed(name));
  return r.value;
}

/**
 * A function of classic bucket series and native histograms at one step: classic buckets go to
 * `classic` (grouped by their labels without `le`), each native histogram to `native`. A label set
 * that has both is ambiguous: Prometheus warns and gives no output for it.
 */
export function withNative(
  vec: StepSample[],
  ann: Annotate,
  classic: (floats: StepSample[]) => StepSample[],
  native: (h: FloatHistogram, metric: Labels) => number,
): StepSample[] {
  const floats = floatSamples(vec);
  const fromClassic = classic(floats);
  if (floats.length === vec.length) return fromClassic;
  const out: StepSample[] = [];
  const nativeKeys = new Set<string>();
  for (const s of vec) {
    if (s.h === undefined) continue;
    nativeKeys.add(labelsKey(s.metric));
  }
  const clash = new Set<string>();
  for (const s of fromClassic) {
    const k = labelsKey(s.metric);
    if (nativeKeys.has(k)) {
      clash.add(k);
      ann.warn(NATIVE_NOTES.mixedClassicNative(getLabel(s.metric, METRIC_NAME)));
    } else out.push(s);
  }
  for (const s of vec) {
    if (s.h === undefined || clash.has(labelsKey(s.metric))) continue;
    out.push({ metric: s.metric, v: native(s.h, s.metric), dropName: true });
  }
  return out;
}
