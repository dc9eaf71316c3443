/**
 * Instant-vector functions evaluated at one step (math, clamp, time, label manipulation, sort,
 * histogram_quantile), after Prometheus' `promql/functions.go`.
 */
import { getLabel, type Labels, labelsKey, METRIC_NAME, compareLabels } from '../../../core/model/labels.js';
import { compileAnchoredRegex } from '../../../core/model/matcher.js';
import type { CompiledRegex } from '../../../core/regex/re2.js';
import { setLabel } from '../../../core/eval/labels.js';
import type { StepSample } from '../../../core/eval/series.js';
import { execError, naturalCompare } from './internal.js';
import { type Bucket, bucketFraction, bucketQuantile } from './quantile.js';
import { formatValue } from './value.js';

/** A function of one float, applied element-wise (drops the metric name). */
export const MATH_FUNCS: ReadonlyMap<string, (v: number) => number> = new Map<string, (v: number) => number>([
  ['abs', Math.abs],
  ['ceil', Math.ceil],
  ['floor', Math.floor],
  ['exp', Math.exp],
  ['sqrt', Math.sqrt],
  ['ln', Math.log],
  ['log2', Math.log2],
  ['log10', Math.log10],
  ['sgn', (v) => (v > 0 ? 1 : v < 0 ? -1 : v)],
  ['sin', Math.sin],
  ['cos', Math.cos],
  ['tan', Math.tan],
  ['asin', Math.asin],
  ['acos', Math.acos],
  ['atan', Math.atan],
  ['sinh', Math.sinh],
  ['cosh', Math.cosh],
  ['tanh', Math.tanh],
  ['asinh', Math.asinh],
  ['acosh', Math.acosh],
  ['atanh', Math.atanh],
  ['deg', (v) => (v * 180) / Math.PI],
  ['rad', (v) => (v * Math.PI) / 180],
]);

function dateOf(v: number): Date | undefined {
  if (!Number.isFinite(v)) return undefined;
  return new Date(Math.trunc(v) * 1000);
}

/** Calendar functions of a Unix time in seconds, in UTC. */
export const DATE_FUNCS: ReadonlyMap<string, (d: Date) => number> = new Map<string, (d: Date) => number>([
  ['day_of_month', (d) => d.getUTCDate()],
  ['day_of_week', (d) => d.getUTCDay()],
  ['day_of_year', (d) => Math.round((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1],
  ['days_in_month', (d) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()],
  ['hour', (d) => d.getUTCHours()],
  ['minute', (d) => d.getUTCMinutes()],
  ['month', (d) => d.getUTCMonth() + 1],
  ['year', (d) => d.getUTCFullYear()],
]);

/** Applies a calendar function; NaN and infinities have no date. */
export function applyDate(f: (d: Date) => number, v: number): number {
  const d = dateOf(v);
  return d === undefined ? NaN : f(d);
}

/** `round(v, to_nearest)`: rounds half up, like Prometheus. */
export function roundTo(v: number, toNearest: number): number {
  const inv = 1 / toNearest;
  return Math.floor(v * inv + 0.5) / inv;
}

/** Expands `$1`, `${1}`, `$name`, `$$` like Go's `Regexp.Expand`. */
function expandTemplate(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(\$|\{([^}]*)\}|([a-zA-Z0-9_]+))/g, (_all, dollar: string, braced: string | undefined, bare: string | undefined) => {
    if (dollar === '$') return '$';
    const name = braced ?? bare ?? '';
    if (/^\d+$/.test(name)) return m[Number(name)] ?? '';
    return m.groups?.[name] ?? '';
  });
}

function checkLabelName(fn: string, name: string): void {
  // Prometheus 3 accepts any valid UTF-8 label name; a lone surrogate is the JS form of invalid UTF-8.
  if (name === '' || /[\uD800-\uDFFF]/u.test(name) || name.includes('\uFFFD')) execError(`invalid destination label name in ${fn}(): ${name}`);
}

/** Compiles the arguments of `label_replace` once per query. */
export function labelReplacer(dst: string, repl: string, src: string, regex: string): (s: StepSample) => StepSample {
  let re: CompiledRegex;
  try {
    re = compileAnchoredRegex(regex);
  } catch (err) {
    return execError(`invalid regular expression in label_replace(): ${regex}: ${(err as Error).message}`);
  }
  checkLabelName('label_replace', dst);
  return (s) => {
    const m = re.exec(getLabel(s.metric, src));
    if (m === null) return s;
    const res = expandTemplate(repl, m);
    return { metric: setLabel(s.metric, dst, res), v: s.v, dropName: dst === METRIC_NAME ? false : s.dropName };
  };
}

/** Compiles the arguments of `label_join` once per query. */
export function labelJoiner(dst: string, sep: string, srcs: string[]): (s: StepSample) => StepSample {
  checkLabelName('label_join', dst);
  return (s) => {
    const v = srcs.map((n) => getLabel(s.metric, n)).join(sep);
    return { metric: setLabel(s.metric, dst, v), v: s.v, dropName: dst === METRIC_NAME ? false : s.dropName };
  };
}

/** `sort` / `sort_desc`: by value, NaN last. */
export function sortByValue(vec: StepSample[], desc: boolean): StepSample[] {
  // Histograms have no value to sort by: Prometheus leaves them out.
  return vec
    .filter((s) => s.h === undefined)
    .sort((a, b) => {
      const an = Number.isNaN(a.v);
      const bn = Number.isNaN(b.v);
      if (an || bn) return an === bn ? 0 : an ? 1 : -1;
      return desc ? b.v - a.v : a.v - b.v;
    });
}

/** `sort_by_label` / `sort_by_label_desc`: natural order of the named labels, then all labels. */
export function sortByLabels(vec: StepSample[], names: string[], desc: boolean): StepSample[] {
  const cmp = (a: StepSample, b: StepSample): number => {
    for (const n of names) {
      const x = getLabel(a.metric, n);
      const y = getLabel(b.metric, n);
      if (x === y) continue;
      return naturalCompare(x, y);
    }
    return compareLabels(a.metric, b.metric);
  };
  return [...vec].sort((a, b) => (desc ? cmp(b, a) : cmp(a, b)));
}

/** Parses a float like Go's `strconv.ParseFloat` (enough for `le` labels). */
export function parseGoFloat(s: string): number | undefined {
  const t = s.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (t === 'nan') return NaN;
  if (/^[+-]?(\d+(_\d+)*\.?\d*(_\d+)*|\.\d+)(e[+-]?\d+)?$/.test(t) || /^[+-]?0x[0-9a-f]+$/.test(t)) {
    const neg = t.startsWith('-');
    const body = t.replace(/^[+-]/, '').replace(/_/g, '');
    const v = Number(body);
    if (Number.isNaN(v)) return undefined;
    return neg ? -v : v;
  }
  return undefined;
}

/** What a bucket series' labels say: its upper bound (undefined when `le` is malformed), its group's labels and key. */
interface BucketLabels {
  readonly le: string;
  readonly upperBound: number | undefined;
  readonly metric: Labels;
  readonly key: string;
}

/**
 * {@link BucketLabels} by label set. A range query meets the same label sets at every step:
 * parsing `le` and keying the group once per label set instead of once per step and series was
 * most of `histogram_quantile`'s time. Label sets are never changed in place, so the entry stays true.
 */
const bucketLabelsCache = new WeakMap<Labels, BucketLabels>();

function bucketLabels(metric: Labels): BucketLabels {
  let b = bucketLabelsCache.get(metric);
  if (b === undefined) {
    const le = getLabel(metric, 'le');
    const group = metric.filter((l) => l.name !== 'le');
    b = { le, upperBound: parseGoFloat(le), metric: group, key: labelsKey(group) };
    bucketLabelsCache.set(metric, b);
  }
  return b;
}

/** Groups classic bucket series by their labels without `le`, warning about malformed bounds. */
function bucketGroups(vec: StepSample[], warn: (m: string) => void): Map<string, { metric: Labels; buckets: Bucket[] }> {
  const groups = new Map<string, { metric: Labels; buckets: Bucket[] }>();
  for (const s of vec) {
    const b = bucketLabels(s.metric);
    if (b.upperBound === undefined) {
      warn(
        `PromQL warning: bucket label "le" is missing or has a malformed value of ${JSON.stringify(b.le)} for metric name ${JSON.stringify(getLabel(s.metric, METRIC_NAME))}`,
      );
      continue;
    }
    let g = groups.get(b.key);
    if (g === undefined) {
      g = { metric: b.metric, buckets: [] };
      groups.set(b.key, g);
    }
    g.buckets.push({ upperBound: b.upperBound, count: s.v });
  }
  return groups;
}

/** `histogram_fraction(lower, upper, v)` over classic buckets at one step. */
export function histogramFraction(lower: number, upper: number, vec: StepSample[], warn: (m: string) => void): StepSample[] {
  const out: StepSample[] = [];
  for (const g of bucketGroups(vec, warn).values()) out.push({ metric: g.metric, v: bucketFraction(lower, upper, g.buckets), dropName: true });
  return out;
}

/** `histogram_quantile` over classic buckets at one step. */
export function histogramQuantile(q: number, vec: StepSample[], warn: (m: string) => void, info: (m: string) => void): StepSample[] {
  if (Number.isNaN(q) || q < 0 || q > 1) warn(`PromQL warning: quantile value should be between 0 and 1, got ${formatValue(q)}`);
  const out: StepSample[] = [];
  for (const g of bucketGroups(vec, warn).values()) {
    const r = bucketQuantile(q, g.buckets);
    const name = JSON.stringify(getLabel(g.metric, METRIC_NAME));
    if (r.forcedMonotonic)
      info(
        `PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name ${name}`,
      );
    out.push({ metric: g.metric, v: r.value, dropName: true });
  }
  return out;
}

/** `histogram_quantiles(v, label, q...)`: one output series per quantile, labelled with it. */
export function histogramQuantiles(label: string, qs: number[], quantileOf: (q: number) => StepSample[]): StepSample[] {
  const out: StepSample[] = [];
  for (const q of qs) {
    let qs2 = formatValue(q);
    if (/^-?\d+$/.test(qs2)) qs2 += '.0';
    for (const s of quantileOf(q)) out.push({ metric: setLabel(s.metric, label, qs2), v: s.v, dropName: true });
  }
  return out;
}
