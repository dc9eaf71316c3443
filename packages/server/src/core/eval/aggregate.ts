/**
 * Vector aggregations (`sum by (…)`, `topk`, `quantile`, `count_values`, …) of both languages,
 * after Prometheus' `aggregation`, `aggregationK` and `aggregationCountValues` in
 * `promql/engine.go`: step by step ({@link aggregateStep}) or over all steps at once
 * ({@link aggregateSeries}).
 */
import { type Label, type Labels, labelsKey, METRIC_NAME, sortLabels } from '../model/labels.js';
import type { Pacer, Work } from '../util/pace.js';
import { evalError } from './errors.js';
import { formatFloat } from './format.js';
import { keepLabels, removeLabels } from './labels.js';
import { extremum, kahanMean, kahanSum, quantile, variance } from './numeric.js';
import type { EvalSeries, SeriesBuilder, StepGrid, StepSample } from './series.js';
import { aggregateHistograms, HIST_NOTES } from './histogram_step.js';
import { histogramString } from '../model/histogram.js';
import { labelsHash } from '../util/xxhash64.js';
import { aggregateDense, DENSE_OPS, MAX_DENSE_CELLS } from './aggregate_dense.js';
import { goQuote, isValidUtf8 } from '../util/goquote.js';

/** What an aggregation needs of its syntax node: the operator and its `by` / `without` clause. */
export interface AggregateSpec {
  readonly op: string;
  /** The `by` / `without` labels. */
  readonly grouping: readonly string[];
  /** True for `without`. */
  readonly without: boolean;
}

/** Computes the group of a series: its grouping labels and their key. */
export class Grouper {
  private readonly names: Set<string>;

  constructor(private readonly node: AggregateSpec) {
    this.names = new Set(node.grouping);
    // `without` always drops the metric name (log streams have none).
    if (node.without) this.names.add(METRIC_NAME);
  }

  /** The group labels of a series. */
  labels(metric: Labels): Labels {
    return this.node.without ? removeLabels(metric, this.names) : keepLabels(metric, this.names);
  }

  /**
   * The group key of a series, `labelsKey(this.labels(metric))` without building the labels: most
   * series join a group that exists, so grouping them makes no array and no tuple.
   */
  key(metric: Labels): string {
    const names = this.names;
    const keep = !this.node.without;
    let key = '';
    for (let i = 0; i < metric.length; i++) {
      const l = metric[i]!;
      if (names.has(l.name) === keep) key += l.name + '\xff' + l.value + '\xfe';
    }
    return key;
  }
}

interface Group {
  labels: Labels;
  values: number[];
  samples: StepSample[];
  dropName: boolean;
}

function collect(grouper: Grouper, input: StepSample[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const s of input) {
    let g = groups.get(grouper.key(s.metric));
    if (g === undefined) {
      const labels = grouper.labels(s.metric);
      g = { labels, values: [], samples: [], dropName: false };
      groups.set(labelsKey(labels), g);
    }
    g.values.push(s.v);
    g.samples.push(s);
    g.dropName ||= s.dropName;
  }
  return groups;
}

/** Sorts for topk (descending) or bottomk (ascending); NaN always sorts last, so it loses. */
function byValue(desc: boolean): (a: StepSample, b: StepSample) => number {
  return (a, b) => {
    const an = Number.isNaN(a.v);
    const bn = Number.isNaN(b.v);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return desc ? b.v - a.v : a.v - b.v;
  };
}

/**
 * Where a label set falls in [0, 1] for `limit_ratio`: Prometheus' `Labels.Hash()` (XXH64 of each
 * name and value followed by a 0xff byte) over 2^64, so the same series are picked at every step
 * and the same ones Prometheus picks.
 */
function ratioOffset(metric: Labels): number {
  return Number(labelsHash(metric)) / 2 ** 64;
}

/** Converts a `topk`/`limitk` parameter to an integer like Prometheus. */
function kParam(p: number): number {
  if (Number.isNaN(p)) evalError('Parameter value is NaN');
  if (p >= 2 ** 63) evalError(`Scalar value ${formatFloat(p)} overflows int64`);
  if (p < -(2 ** 63)) evalError(`Scalar value ${formatFloat(p)} underflows int64`);
  return Math.trunc(p);
}

/**
 * Aggregates one step. `param` is the scalar parameter at this step (or the label name of
 * `count_values`). Input samples flagged for name removal have lost their name already.
 */
export function aggregateStep(
  node: AggregateSpec,
  grouper: Grouper,
  inputRaw: StepSample[],
  param: number | string | undefined,
  warn: (msg: string) => void,
  info: (msg: string) => void = () => {},
): StepSample[] {
  // Delayed name removal: groups are formed on the labels as they are (a to-be-dropped name still
  // partitions `by (__name__)`), and a group inherits the flag from any member, like Prometheus 3.
  const input = inputRaw;
  const out: StepSample[] = [];
  switch (node.op) {
    case 'topk':
    case 'bottomk':
    case 'limitk': {
      const k = kParam(param as number);
      if (k < 1) return out;
      for (const g of collect(grouper, input).values()) {
        let members = g.samples;
        if (node.op !== 'limitk' && members.some((m) => m.h !== undefined)) {
          // topk and bottomk order by value: histograms have none, so they are left out.
          info(HIST_NOTES.ignoredInAgg(node.op));
          members = members.filter((m) => m.h === undefined);
        }
        const picked = node.op === 'limitk' ? members.slice(0, k) : [...members].sort(byValue(node.op === 'topk')).slice(0, k);
        out.push(...picked);
      }
      return out;
    }
    case 'limit_ratio': {
      let r = param as number;
      if (Number.isNaN(r)) evalError('Ratio value is NaN');
      if (r > 1 || r < -1) {
        const capped = r > 1 ? 1 : -1;
        warn(`PromQL warning: ratio value should be between -1 and 1, got ${formatFloat(r)}, capping to ${capped}`);
        r = capped;
      }
      for (const s of input) {
        const off = ratioOffset(s.metric);
        if (r >= 0 ? off < r : off >= 1 + r && off <= 1) out.push(s);
      }
      return out;
    }
    case 'count_values': {
      const name = param as string;
      // Prometheus 3 takes any label name that is valid UTF-8 (byte escapes can make one that is not).
      if (name === '' || !isValidUtf8(name)) evalError(`invalid label name ${goQuote(name)}`);
      const counts = new Map<string, { labels: Labels; n: number }>();
      for (const s of input) {
        const gl = grouper.labels(s.metric);
        const pairs: Label[] = gl.filter((l) => l.name !== name);
        pairs.push({ name, value: s.h === undefined ? formatFloat(s.v) : histogramString(s.h) });
        const labels = sortLabels(pairs);
        const k = labelsKey(labels);
        const c = counts.get(k);
        if (c === undefined) counts.set(k, { labels, n: 1 });
        else c.n++;
      }
      for (const c of counts.values()) out.push({ metric: c.labels, v: c.n, dropName: false });
      return out;
    }
    default:
      break;
  }
  if (node.op === 'quantile') {
    const q = param as number;
    if (Number.isNaN(q) || q < 0 || q > 1) warn(`PromQL warning: quantile value should be between 0 and 1, got ${formatFloat(q)}`);
  }
  for (const g of collect(grouper, input).values()) {
    let vs = g.values;
    if (g.samples.some((m) => m.h !== undefined)) {
      const r = aggregateHistograms(node.op, g.samples, { warn, info });
      if (r.handled) {
        if (r.out !== undefined) out.push({ metric: g.labels, v: r.out.v, dropName: g.dropName, ...(r.out.h === undefined ? {} : { h: r.out.h }) });
        continue;
      }
      vs = r.floats.map((m) => m.v);
      if (vs.length === 0) continue;
    }
    let v: number;
    switch (node.op) {
      case 'sum':
        v = kahanSum(vs, 0, vs.length);
        break;
      case 'avg':
        v = kahanMean(vs, 0, vs.length);
        break;
      case 'count':
        v = vs.length;
        break;
      case 'group':
        v = 1;
        break;
      case 'min':
        v = extremum(vs, 0, vs.length, false);
        break;
      case 'max':
        v = extremum(vs, 0, vs.length, true);
        break;
      case 'stdvar':
        v = variance(vs, 0, vs.length);
        break;
      case 'stddev':
        v = Math.sqrt(variance(vs, 0, vs.length));
        break;
      case 'quantile':
        v = quantile(param as number, vs);
        break;
      default:
        return evalError(`unknown aggregation ${node.op}`);
    }
    out.push({ metric: g.labels, v, dropName: g.dropName });
  }
  return out;
}

/** Operators {@link aggregateSeries} evaluates; the rest go step by step through {@link aggregateStep}. */
export const SERIES_AGG_OPS: ReadonlySet<string> = new Set([
  'sum',
  'avg',
  'count',
  'group',
  'min',
  'max',
  'stddev',
  'stdvar',
  'quantile',
  'topk',
  'bottomk',
  'limitk',
]);

/** Orders values for topk (desc) / bottomk; NaN always sorts last. Same order as {@link byValue}. */
function cmpValue(a: number, b: number, desc: boolean): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return desc ? b - a : a - b;
}

/**
 * Each series' group by position (`gOf`) and each group's labels, groups numbered in order of first
 * appearance (the order results come out in). Grouping a million series takes a while, so it
 * yields to the pacer in between.
 */
export function* assignGroups(
  grouper: Grouper,
  series: ReadonlyArray<{ readonly metric: Labels }>,
  pace: Pacer,
): Work<{ gOf: Int32Array; groupLabels: Labels[] }> {
  const gOf = new Int32Array(series.length);
  const groupLabels: Labels[] = [];
  const keyToGroup = new Map<string, number>();
  for (let j = 0; j < series.length; j++) {
    if ((j & 1023) === 1023 && pace.due()) {
      pace.check();
      yield;
    }
    const metric = series[j]!.metric;
    let g = keyToGroup.get(grouper.key(metric));
    if (g === undefined) {
      const labels = grouper.labels(metric);
      g = groupLabels.length;
      // The flat key of labelsKey, not the concatenated one, is what the map keeps.
      keyToGroup.set(labelsKey(labels), g);
      groupLabels.push(labels);
    }
    gOf[j] = g;
  }
  return { gOf, groupLabels };
}

/**
 * Aggregates instant-vector series over all steps at once, with the same results (and the same
 * output order) as {@link aggregateStep} applied step by step. Each series' group is worked out
 * once, and every step reuses typed scratch buffers, so no object is made per sample or step.
 * `param` holds the scalar parameter per step (topk, bottomk, limitk, quantile).
 */
export function* aggregateSeries(
  node: AggregateSpec,
  grouper: Grouper,
  input: readonly EvalSeries[],
  param: Float64Array | undefined,
  grid: StepGrid,
  pace: Pacer,
  warn: (msg: string) => void,
): Work<{ series: EvalSeries[]; total: number }> {
  const op = node.op;
  const S = input.length;
  const { gOf, groupLabels } = yield* assignGroups(grouper, input, pace);
  const G = groupLabels.length;
  if (DENSE_OPS.has(op) && G * grid.n <= MAX_DENSE_CELLS) return yield* aggregateDense(op, input, gOf, groupLabels, grid, pace);
  const cnt = new Int32Array(G);
  const end = new Int32Array(G);
  const drop = new Uint8Array(G);
  const touched = new Int32Array(G);
  const cursor = new Int32Array(S);
  const presJ = new Int32Array(S);
  const presV = new Float64Array(S);
  const vals = new Float64Array(S);
  const idxs = new Int32Array(S);
  const isK = op === 'topk' || op === 'bottomk' || op === 'limitk';
  const desc = op === 'topk';
  const outG: Array<SeriesBuilder | undefined> = isK ? [] : new Array<SeriesBuilder | undefined>(G);
  const outJ: Array<SeriesBuilder | undefined> = isK ? new Array<SeriesBuilder | undefined>(S) : [];
  const out: EvalSeries[] = [];
  const picked: number[] = [];
  let total = 0;
  const { n, start, interval } = grid;
  for (let i = 0; i < n; i++) {
    if ((i & 63) === 0) {
      pace.check();
      if (pace.due()) yield;
    }
    const t = start + i * interval;
    let k = 0;
    let q = 0;
    if (isK) {
      k = kParam(param![i]!);
      if (k < 1) continue;
    } else if (op === 'quantile') {
      q = param![i]!;
      if (Number.isNaN(q) || q < 0 || q > 1) warn(`PromQL warning: quantile value should be between 0 and 1, got ${formatFloat(q)}`);
    }
    let np = 0;
    for (let j = 0; j < S; j++) {
      const s = input[j]!;
      const c = cursor[j]!;
      if (c < s.ts.length && s.ts[c] === t) {
        presJ[np] = j;
        presV[np] = s.vs[c]!;
        np++;
        cursor[j] = c + 1;
      }
    }
    if (np === 0) continue;
    // Bucket the present samples by group, keeping series order inside a group (a counting sort);
    // groups are taken in order of first appearance, as the step-wise path collects them.
    let nt = 0;
    for (let p = 0; p < np; p++) {
      const j = presJ[p]!;
      const g = gOf[j]!;
      const c = cnt[g]!;
      cnt[g] = c + 1;
      if (c === 0) {
        touched[nt++] = g;
        drop[g] = 0;
      }
      if (input[j]!.dropName) drop[g] = 1;
    }
    let o = 0;
    for (let x = 0; x < nt; x++) {
      const g = touched[x]!;
      end[g] = o;
      o += cnt[g]!;
    }
    for (let p = 0; p < np; p++) {
      const g = gOf[presJ[p]!]!;
      const pos = end[g]!;
      end[g] = pos + 1;
      vals[pos] = presV[p]!;
      idxs[pos] = presJ[p]!;
    }
    for (let x = 0; x < nt; x++) {
      const g = touched[x]!;
      const hi = end[g]!;
      const lo = hi - cnt[g]!;
      cnt[g] = 0;
      if (isK) {
        pickK(vals, lo, hi, k, op === 'limitk', desc, picked);
        for (const pos of picked) {
          const j = idxs[pos]!;
          let es = outJ[j];
          if (es === undefined) {
            const src = input[j]!;
            es = outJ[j] = { metric: src.metric, ts: [], vs: [], dropName: src.dropName };
            out.push(es);
          }
          es.ts.push(t);
          es.vs.push(vals[pos]!);
        }
        total += picked.length;
        continue;
      }
      let v: number;
      switch (op) {
        case 'sum':
          v = kahanSum(vals, lo, hi);
          break;
        case 'avg':
          v = kahanMean(vals, lo, hi);
          break;
        case 'count':
          v = hi - lo;
          break;
        case 'group':
          v = 1;
          break;
        case 'min':
          v = extremum(vals, lo, hi, false);
          break;
        case 'max':
          v = extremum(vals, lo, hi, true);
          break;
        case 'stdvar':
          v = variance(vals, lo, hi);
          break;
        case 'stddev':
          v = Math.sqrt(variance(vals, lo, hi));
          break;
        case 'quantile':
          v = quantile(q, Array.from(vals.subarray(lo, hi)));
          break;
        default:
          return evalError(`unknown aggregation ${op}`);
      }
      let es = outG[g];
      if (es === undefined) {
        es = outG[g] = { metric: groupLabels[g]!, ts: [], vs: [], dropName: drop[g] === 1 };
        out.push(es);
      }
      es.ts.push(t);
      es.vs.push(v);
      total++;
    }
  }
  return { series: out, total };
}

/**
 * The samples (positions in `vals`) that topk/bottomk/limitk keep from one group's bucket
 * `[lo, hi)`, in output order: a stable sort by value, cut to `k`.
 */
function pickK(vals: Float64Array, lo: number, hi: number, k: number, limit: boolean, desc: boolean, picked: number[]): void {
  picked.length = 0;
  const m = hi - lo;
  if (limit) {
    for (let p = lo; p < hi && p - lo < k; p++) picked.push(p);
    return;
  }
  if (k >= m || k > 32) {
    const pos: number[] = [];
    for (let p = lo; p < hi; p++) pos.push(p);
    pos.sort((a, b) => cmpValue(vals[a]!, vals[b]!, desc));
    for (let x = 0; x < pos.length && x < k; x++) picked.push(pos[x]!);
    return;
  }
  // Small k: insertion into a sorted buffer of positions; inserting after equals keeps it stable.
  const buf: number[] = [];
  for (let p = lo; p < hi; p++) {
    const v = vals[p]!;
    let at = buf.length;
    while (at > 0 && cmpValue(v, vals[buf[at - 1]!]!, desc) < 0) at--;
    if (at >= k) continue;
    buf.splice(at, 0, p);
    if (buf.length > k) buf.length = k;
  }
  for (const p of buf) picked.push(p);
}
