/**
 * TraceQL metrics for `/api/metrics/query_range` (and `/api/metrics/query`): `rate()`,
 * `count_over_time()`, `quantile_over_time(field, q…)`, `histogram_over_time(field)` and
 * `min|max|avg|sum_over_time(field)`, each with an optional
 * `by(…)`, evaluated over candidate traces into series on a step grid, in Tempo's response shape
 * (`series[]` of `labels`, `promLabels`, `samples[{timestampMs, value}]`).
 *
 * As in Tempo the functions count spans, not traces: every span of a spanset the query yields,
 * once, at its start time. The grid: `start` is aligned down to a multiple of `step` (so the
 * points of every query and panel line up), interval i covers [start + i·step, start + (i+1)·step)
 * and is reported at its start. Durations
 * (`duration`, `traceDuration`) are reported in seconds. A span without a `by` attribute falls in
 * the series without that label. Intervals without spans have no sample.
 */
import { VigilError } from '../../core/errors.js';
import { quantile } from '../../core/eval/numeric.js';
import type { Span } from '../storage/types.js';
import type { FieldRef, MetricsStage, RootExpr } from './ast.js';
import { compilePipeline } from './eval.js';
import { anyValue, compileField, type FieldFn, type Val, valueKey, valueText } from './fields.js';
import { parseErrorAt } from './lexer.js';
import { parseTraceQL } from './parser.js';
import { TimeSlicer } from '../../core/util/pace.js';
import { TraceView } from './trace_view.js';

/** A metrics query that cannot be answered as asked (too many points or series). */
export class TraceqlExecError extends VigilError {
  override readonly code = 'execution' as const;
  constructor(message: string) {
    super('execution', message);
  }
}

/** Most points per series, as Prometheus bounds a range query. */
export const MAX_POINTS = 11_000;
/** Most series one query may produce. */
export const MAX_SERIES = 1000;
/** Most field values a query over a field keeps at once (8 bytes each: 80 MB), so one query cannot exhaust memory. */
export const MAX_VALUES = 10_000_000;

export interface QueryRangeOptions {
  readonly startMs: number;
  readonly endMs: number;
  readonly stepMs: number;
  readonly signal?: AbortSignal;
  readonly sliceMs?: number;
  /**
   * Most exemplars per series (default 0: none): spans that fell in an interval, one per interval,
   * so a graph can link a point to a trace. Not given for histogram_over_time.
   */
  readonly exemplars?: number;
  /** Overrides {@link MAX_VALUES} (tests use a small one). */
  readonly maxValues?: number;
}

/** A span behind a point: its trace and span id, its value (or the point's) and its start. */
export interface Exemplar {
  labels: Label[];
  value: number;
  timestampMs: string;
}

export interface Label {
  key: string;
  value: Record<string, unknown>;
}

export interface TimeSeries {
  labels: Label[];
  promLabels: string;
  samples: { timestampMs: string; value: number }[];
  exemplars?: Exemplar[];
}

export interface QueryRangeResult {
  series: TimeSeries[];
  metrics: { inspectedTraces: number; inspectedSpans: number };
}

export interface CompiledMetrics {
  readonly root: RootExpr;
  readonly stage: MetricsStage;
}

/** Parses a metrics query; a plain search (no `| rate()` or the like) is refused. */
export function compileMetrics(query: string): CompiledMetrics {
  const root = parseTraceQL(query);
  if (root.metrics === null) {
    throw parseErrorAt(query, query.length, 'a metrics query must end in a metrics function such as | rate() or | count_over_time()');
  }
  return { root, stage: root.metrics };
}

interface Acc {
  labels: { key: string; value: Val }[];
  /** Per interval: span counts, or the values seen (for the functions over a field). */
  counts?: Float64Array;
  values?: (number[] | undefined)[];
  /** By interval: the first span seen there, while the series has fewer than the limit. */
  exemplars?: Map<number, { traceId: string; spanId: string; tMs: number; value: number | undefined }>;
}

const DURATIONS: ReadonlySet<string> = new Set(['duration', 'traceDuration', 'eventTimeSinceStart']);
const isDurationField = (f: FieldRef | null): boolean => f !== null && f.t === 'intrinsic' && DURATIONS.has(f.which);

/** Evaluates a metrics query over candidate traces on a step grid. */
export async function queryRange(
  query: string | CompiledMetrics,
  candidates: AsyncIterable<readonly Span[]> | Iterable<readonly Span[]>,
  opts: QueryRangeOptions,
): Promise<QueryRangeResult> {
  const compiled = typeof query === 'string' ? compileMetrics(query) : query;
  const { stepMs } = opts;
  if (!(stepMs > 0) || !Number.isFinite(opts.startMs) || !Number.isFinite(opts.endMs))
    throw new TraceqlExecError('step must be positive and start and end finite');
  if (opts.endMs < opts.startMs) throw new TraceqlExecError('end must not be before start');
  const start = Math.floor(opts.startMs / stepMs) * stepMs;
  const intervals = Math.max(1, Math.ceil((opts.endMs - start) / stepMs));
  if (intervals > MAX_POINTS)
    throw new TraceqlExecError(`exceeded maximum resolution of ${MAX_POINTS} points per timeseries. Try decreasing the query resolution (?step=XX)`);
  return evaluate(compiled, candidates, { ...opts, startMs: start, intervals });
}

/** One series of an instant query (`/api/metrics/query`): the value over the whole range. */
export interface InstantSeries {
  labels: Label[];
  promLabels: string;
  value: number;
}

/** Evaluates a metrics query as one interval spanning [start, end): `rate()` is per second of it. */
export async function queryInstant(
  query: string | CompiledMetrics,
  candidates: AsyncIterable<readonly Span[]> | Iterable<readonly Span[]>,
  opts: Omit<QueryRangeOptions, 'stepMs'>,
): Promise<{ series: InstantSeries[]; metrics: QueryRangeResult['metrics'] }> {
  const compiled = typeof query === 'string' ? compileMetrics(query) : query;
  if (!Number.isFinite(opts.startMs) || !Number.isFinite(opts.endMs) || opts.endMs <= opts.startMs) throw new TraceqlExecError('end must be after start');
  const res = await evaluate(compiled, candidates, { ...opts, stepMs: opts.endMs - opts.startMs, intervals: 1 });
  const series = res.series.filter((s) => s.samples.length > 0).map((s) => ({ labels: s.labels, promLabels: s.promLabels, value: s.samples[0]!.value }));
  return { series, metrics: res.metrics };
}

async function evaluate(
  { root, stage }: CompiledMetrics,
  candidates: AsyncIterable<readonly Span[]> | Iterable<readonly Span[]>,
  opts: QueryRangeOptions & { intervals: number },
): Promise<QueryRangeResult> {
  const { stepMs, intervals } = opts;
  const start = opts.startMs;
  const run = compilePipeline(root);
  const by = stage.by.map((ref) => ({ ref, fn: compileField(ref, root.text) }));
  const field: FieldFn | null = stage.field === null ? null : compileField(stage.field, root.text);
  const toSeconds = isDurationField(stage.field);
  const perField = field !== null;
  const accs = new Map<string, Acc>();
  const maxValues = opts.maxValues ?? MAX_VALUES;
  let values = 0;
  const maxExemplars = stage.fn === 'histogram_over_time' ? 0 : Math.max(0, Math.floor(opts.exemplars ?? 0));
  const pacer = new TimeSlicer({ ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.sliceMs !== undefined ? { sliceMs: opts.sliceMs } : {}) });
  pacer.check();
  let inspectedTraces = 0;
  let inspectedSpans = 0;

  for await (const trace of candidates) {
    await pacer.tick();
    inspectedTraces++;
    inspectedSpans += trace.length;
    const tv = new TraceView(trace);
    const spansets = run(tv);
    if (spansets.length === 0) continue;
    const seen = new Set<number>();
    for (const ss of spansets) {
      for (const i of ss.spans) {
        if (seen.has(i)) continue;
        seen.add(i);
        const tMs = Number(tv.spans[i]!.startTimeUnixNano / 1_000_000n);
        if (tMs < start || tMs >= opts.endMs) continue;
        const k = Math.floor((tMs - start) / stepMs);
        if (k >= intervals) continue;
        const labels: { key: string; value: Val }[] = [];
        for (const b of by) {
          const v = b.fn(i, tv);
          if (v !== null) labels.push({ key: b.ref.text, value: v });
        }
        const key = labels.map((l) => `${l.key}\u0000${valueKey(l.value)}`).join('\u0001');
        let acc = accs.get(key);
        if (acc === undefined) {
          if (accs.size >= MAX_SERIES) throw new TraceqlExecError(`the query produces more than ${MAX_SERIES} series; narrow the filter or the by() clause`);
          acc = perField ? { labels, values: new Array<number[] | undefined>(intervals) } : { labels, counts: new Float64Array(intervals) };
          accs.set(key, acc);
        }
        if (maxExemplars > 0 && !(acc.exemplars ??= new Map()).has(k) && acc.exemplars.size < maxExemplars) {
          const v = field?.(i, tv);
          const span = tv.spans[i]!;
          acc.exemplars.set(k, { traceId: span.traceId, spanId: span.spanId, tMs, value: typeof v === 'number' ? (toSeconds ? v / 1e9 : v) : undefined });
        }
        if (!perField) {
          acc.counts![k]!++;
          continue;
        }
        // A field with several values per span (an array attribute, an event intrinsic) contributes each.
        const v = field!(i, tv);
        for (const x of Array.isArray(v) ? (v as unknown[]) : [v]) {
          if (typeof x !== 'number' || Number.isNaN(x)) continue;
          if (++values > maxValues) throw new TraceqlExecError(`the query reads more than ${maxValues} values; narrow the filter or the time range`);
          (acc.values![k] ??= []).push(toSeconds ? x / 1e9 : x);
        }
      }
    }
  }

  const series: TimeSeries[] = [];
  const ts = (k: number): string => String(start + k * stepMs);
  for (const acc of accs.values()) {
    // Sorting a busy interval's values for its quantiles is work too: pace it like the scan.
    await pacer.tick();
    const made = seriesOfAcc(acc, stage, { intervals, stepMs, ts }, toSeconds);
    if (acc.exemplars !== undefined) for (const s of made) attachExemplars(s, acc, ts);
    series.push(...made);
  }
  series.sort((a, b) => (a.promLabels < b.promLabels ? -1 : a.promLabels > b.promLabels ? 1 : 0));
  return { series: stage.top === null ? series : topSeries(series, stage.top.fn, stage.top.n), metrics: { inspectedTraces, inspectedSpans } };
}

/** The series one accumulator gives: one, one per quantile, or one per histogram bucket. */
function seriesOfAcc(acc: Acc, stage: MetricsStage, grid: { intervals: number; stepMs: number; ts: (k: number) => string }, toSeconds: boolean): TimeSeries[] {
  const { intervals, stepMs, ts } = grid;
  const series: TimeSeries[] = [];
  if (acc.counts !== undefined) {
    const samples = [];
    for (let k = 0; k < intervals; k++) {
      const c = acc.counts[k]!;
      if (c > 0) samples.push({ timestampMs: ts(k), value: stage.fn === 'rate' ? c / (stepMs / 1000) : c });
    }
    series.push(seriesOf(acc.labels, [], samples));
    return series;
  }
  if (stage.fn === 'histogram_over_time') {
    return histogram(acc, intervals, ts, toSeconds);
  }
  if (stage.fn === 'quantile_over_time') {
    for (const q of stage.quantiles) {
      const samples = [];
      for (let k = 0; k < intervals; k++) {
        const vs = acc.values![k];
        if (vs !== undefined && vs.length > 0) samples.push({ timestampMs: ts(k), value: quantile(q, vs) });
      }
      series.push(seriesOf(acc.labels, [{ key: 'p', value: { doubleValue: q } }], samples));
    }
    return series;
  }
  const samples = [];
  for (let k = 0; k < intervals; k++) {
    const vs = acc.values![k];
    if (vs === undefined || vs.length === 0) continue;
    samples.push({ timestampMs: ts(k), value: reduce(stage.fn, vs) });
  }
  if (samples.length > 0) series.push(seriesOf(acc.labels, [], samples));
  return series;
}

/** The series' exemplars: a span's own value where it has one, else the point's value. */
function attachExemplars(s: TimeSeries, acc: Acc, ts: (k: number) => string): void {
  const points = new Map(s.samples.map((p) => [p.timestampMs, p.value]));
  const out: Exemplar[] = [];
  for (const [k, e] of acc.exemplars!) {
    const point = points.get(ts(k));
    if (point === undefined) continue;
    out.push({
      labels: [
        { key: 'trace:id', value: { stringValue: e.traceId } },
        { key: 'span:id', value: { stringValue: e.spanId } },
      ],
      value: e.value ?? point,
      timestampMs: String(e.tMs),
    });
  }
  if (out.length > 0) s.exemplars = out.sort((a, b) => Number(a.timestampMs) - Number(b.timestampMs));
}

/** `topk(n)` / `bottomk(n)`, per step as in PromQL: at each timestamp only the n highest (lowest) values stay. */
function topSeries(series: TimeSeries[], fn: 'topk' | 'bottomk', n: number): TimeSeries[] {
  const at = new Map<string, { s: number; v: number }[]>();
  series.forEach((s, si) => {
    for (const p of s.samples) {
      let list = at.get(p.timestampMs);
      if (list === undefined) at.set(p.timestampMs, (list = []));
      list.push({ s: si, v: p.value });
    }
  });
  const keep = new Set<string>();
  for (const [ts, list] of at) {
    // Ties keep the series that sorts first by its labels (the order `series` is in).
    list.sort((x, y) => (fn === 'topk' ? y.v - x.v : x.v - y.v) || x.s - y.s);
    for (const e of list.slice(0, n)) keep.add(`${e.s}@${ts}`);
  }
  return series.map((s, si) => ({ ...s, samples: s.samples.filter((p) => keep.has(`${si}@${p.timestampMs}`)) })).filter((s) => s.samples.length > 0);
}

/**
 * Tempo's histogram: each value counted in the bucket of the next power of two at or above it (for
 * durations, of nanoseconds, labelled in seconds), one series per bucket labelled `__bucket`.
 */
function histogram(acc: Acc, intervals: number, ts: (k: number) => string, seconds: boolean): TimeSeries[] {
  const buckets = new Map<number, TimeSeries['samples']>();
  for (let k = 0; k < intervals; k++) {
    const counts = new Map<number, number>();
    for (const v of acc.values![k] ?? []) {
      const raw = seconds ? Math.round(v * 1e9) : v;
      const pow = raw <= 1 ? 1 : Math.pow(2, Math.ceil(Math.log2(raw)));
      const b = seconds ? pow / 1e9 : pow;
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    for (const [b, c] of counts) {
      let samples = buckets.get(b);
      if (samples === undefined) buckets.set(b, (samples = []));
      samples.push({ timestampMs: ts(k), value: c });
    }
  }
  return [...buckets.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([b, samples]) => seriesOf(acc.labels, [{ key: '__bucket', value: { doubleValue: b } }], samples));
}

function reduce(fn: string, vs: number[]): number {
  switch (fn) {
    case 'min_over_time':
      return Math.min(...vs);
    case 'max_over_time':
      return Math.max(...vs);
    case 'sum_over_time':
      return vs.reduce((a, b) => a + b, 0);
    default:
      return vs.reduce((a, b) => a + b, 0) / vs.length;
  }
}

function seriesOf(labels: { key: string; value: Val }[], extra: Label[], samples: TimeSeries['samples']): TimeSeries {
  const out: Label[] = labels.map((l) => ({ key: l.key, value: anyValue(l.value) }));
  out.push(...extra);
  const text = [
    ...labels.map((l) => `${l.key}=${JSON.stringify(valueText(l.value))}`),
    ...extra.map((l) => `${l.key}=${JSON.stringify(String(l.value['doubleValue']))}`),
  ].join(', ');
  return { labels: out, promLabels: `{${text}}`, samples };
}
