/**
 * Aggregation operators at one evaluation step, after Prometheus' `aggregation`,
 * `aggregationK` and `aggregationCountValues` in `promql/engine.go`.
 */
import { type Label, type Labels, labelsKey, METRIC_NAME, sortLabels } from '../../model/labels.js';
import type { AggregateExpr } from '../parser/index.js';
import { formatValue } from './value.js';
import { execError, keepLabels, removeLabels, type StepSample } from './internal.js';
import { quantile } from './quantile.js';
import { avgOverTime, extremum, sumOverTime, variance } from './rangefuncs.js';

/** Computes group labels, caching per input label set. */
export class Grouper {
  private readonly names: Set<string>;
  private readonly cache = new Map<string, [string, Labels]>();

  constructor(private readonly node: AggregateExpr) {
    this.names = new Set(node.grouping);
    if (node.without) this.names.add(METRIC_NAME);
  }

  /** The group key and labels of a series. */
  group(metric: Labels): [string, Labels] {
    const k = labelsKey(metric);
    let g = this.cache.get(k);
    if (g === undefined) {
      const labels = this.node.without ? removeLabels(metric, this.names) : keepLabels(metric, this.names);
      g = [labelsKey(labels), labels];
      this.cache.set(k, g);
    }
    return g;
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
    const [k, labels] = grouper.group(s.metric);
    let g = groups.get(k);
    if (g === undefined) {
      g = { labels, values: [], samples: [], dropName: false };
      groups.set(k, g);
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

/** A deterministic hash in [0, 1) of a label set, for `limit_ratio` sampling. */
function ratioOffset(metric: Labels): number {
  // FNV-1a (32 bit): stable across runs, so the same series are picked at every step.
  let h = 0x811c9dc5;
  const key = labelsKey(metric);
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 0x100000000;
}

/** Converts a `topk`/`limitk` parameter to an integer like Prometheus. */
function kParam(p: number): number {
  if (Number.isNaN(p)) execError('Parameter value is NaN');
  if (p >= 2 ** 63) execError(`Scalar value ${formatValue(p)} overflows int64`);
  if (p < -(2 ** 63)) execError(`Scalar value ${formatValue(p)} underflows int64`);
  return Math.trunc(p);
}

/**
 * Aggregates one step. `param` is the scalar parameter at this step (or the label name of
 * `count_values`). Input samples flagged for name removal have lost their name already.
 */
export function aggregateStep(
  node: AggregateExpr,
  grouper: Grouper,
  inputRaw: StepSample[],
  param: number | string | undefined,
  warn: (msg: string) => void,
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
        const picked = node.op === 'limitk' ? g.samples.slice(0, k) : [...g.samples].sort(byValue(node.op === 'topk')).slice(0, k);
        out.push(...picked);
      }
      return out;
    }
    case 'limit_ratio': {
      let r = param as number;
      if (Number.isNaN(r)) execError('Ratio value is NaN');
      if (r > 1 || r < -1) {
        const capped = r > 1 ? 1 : -1;
        warn(`PromQL warning: ratio value should be between -1 and 1, got ${formatValue(r)}, capping to ${capped}`);
        r = capped;
      }
      for (const s of input) {
        const off = ratioOffset(s.metric);
        if (r >= 0 ? off < r : off >= 1 + r) out.push(s);
      }
      return out;
    }
    case 'count_values': {
      const name = param as string;
      const counts = new Map<string, { labels: Labels; n: number }>();
      for (const s of input) {
        const [, gl] = grouper.group(s.metric);
        const pairs: Label[] = gl.filter((l) => l.name !== name);
        pairs.push({ name, value: formatValue(s.v) });
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
    if (Number.isNaN(q) || q < 0 || q > 1) warn(`PromQL warning: quantile value should be between 0 and 1, got ${formatValue(q)}`);
  }
  for (const g of collect(grouper, input).values()) {
    const vs = g.values;
    let v: number;
    switch (node.op) {
      case 'sum':
        v = sumOverTime(vs, 0, vs.length);
        break;
      case 'avg':
        v = avgOverTime(vs, 0, vs.length);
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
        return execError(`unknown aggregation ${node.op}`);
    }
    out.push({ metric: g.labels, v, dropName: g.dropName });
  }
  return out;
}
