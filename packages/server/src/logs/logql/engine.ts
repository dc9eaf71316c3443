/**
 * The LogQL engine. Log queries run the pipeline over the store's pull iterators and keep the
 * newest (or oldest) `limit` lines. Metric queries select once over the whole range, turn each
 * line into a sample of its output series, then slide each step's window over the sorted samples.
 * Results use the PromQL engine's value types so `toApiJson` serialises them.
 */
import { compareLabels, labelsKey, sortLabels, type Label, type Labels } from '../../core/model/labels.js';
import type { LogQueryable } from '../storage/interface.js';
import type { Direction, LogEntry } from '../storage/types.js';
import type { Matrix, Scalar, Vector } from '../../metrics/promql/engine/value.js';
import type { BinOp, Expr, Grouping, LogExpr, MetricExpr } from './ast.js';
import { parseLogql } from './parser.js';
import { Pipeline } from './pipeline.js';

/** One stream of a log query result. */
export interface ResultStream {
  readonly labels: Labels;
  readonly entries: LogEntry[];
}

/** A log query's result. */
export interface StreamsValue {
  readonly type: 'streams';
  readonly streams: ResultStream[];
}

/** Any LogQL result. */
export type LogqlValue = StreamsValue | Matrix | Vector | Scalar;

/** Work done by a query, for the API's `stats`. */
export interface LogqlStats {
  linesScanned: number;
  bytesScanned: number;
}

/** A query error at evaluation time (maps to 400/422 at the API). */
export class LogqlExecError extends Error {
  readonly code = 'execution' as const;
}

interface StepSeries {
  labels: Labels;
  vals: Float64Array;
}
type Evaluated = { kind: 'scalar'; v: number } | { kind: 'vec'; series: StepSeries[] };

const NS_PER_MS = 1_000_000n;

function groupLabels(l: Labels, g: Grouping | undefined): Labels {
  if (!g) return [];
  return g.without ? l.filter((x) => !g.labels.includes(x.name)) : l.filter((x) => g.labels.includes(x.name));
}

function quantile(q: number, vs: number[]): number {
  if (!vs.length) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  vs.sort((a, b) => a - b);
  const rank = q * (vs.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, vs.length - 1);
  return vs[lo]! + (vs[hi]! - vs[lo]!) * (rank - lo);
}

/** Options of {@link LogqlEngine}. */
export interface LogqlEngineOptions {
  /** Most series a metric query may produce (default 10000). */
  readonly maxSeries?: number;
}

/** Evaluates LogQL over a {@link LogQueryable}. */
export class LogqlEngine {
  private readonly maxSeries: number;
  constructor(
    private readonly store: LogQueryable,
    opts: LogqlEngineOptions = {},
  ) {
    this.maxSeries = opts.maxSeries ?? 10_000;
  }

  /**
   * A range query. Log queries return up to `limit` lines in [start, end); metric queries a matrix
   * with one point per `stepMs` from start to end inclusive.
   */
  rangeQuery(query: string | Expr, start: bigint, end: bigint, stepMs: number, limit = 100, direction: Direction = 'backward', stats?: LogqlStats): LogqlValue {
    const expr = typeof query === 'string' ? parseLogql(query) : query;
    if (expr.kind === 'log') return this.logs(expr, start, end, limit, direction, stats);
    const startMs = Number(start / NS_PER_MS);
    const endMs = Number(end / NS_PER_MS);
    if (stepMs <= 0) throw new LogqlExecError('zero or negative query resolution step widths are not accepted');
    if ((endMs - startMs) / stepMs > 11_000) throw new LogqlExecError('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    const steps: number[] = [];
    for (let t = startMs; t <= endMs; t += stepMs) steps.push(t);
    const r = this.eval(expr, steps, stats);
    if (r.kind === 'scalar') return { type: 'matrix', series: [{ metric: [], points: steps.map((t) => ({ t, v: r.v })) }] };
    const series = r.series
      .map((s) => ({ metric: s.labels, points: steps.flatMap((t, i) => (Number.isNaN(s.vals[i]!) ? [] : [{ t, v: s.vals[i]! }])) }))
      .filter((s) => s.points.length)
      .sort((a, b) => compareLabels(a.metric, b.metric));
    return { type: 'matrix', series };
  }

  /** An instant query at `t` (ns): metric queries give a vector, log queries lines before `t`. */
  instantQuery(query: string | Expr, t: bigint, limit = 100, direction: Direction = 'backward', stats?: LogqlStats): LogqlValue {
    const expr = typeof query === 'string' ? parseLogql(query) : query;
    if (expr.kind === 'log') return this.logs(expr, t - 3_600_000n * NS_PER_MS, t + 1n, limit, direction, stats);
    const tMs = Number(t / NS_PER_MS);
    const r = this.eval(expr, [tMs], stats);
    if (r.kind === 'scalar') return { type: 'scalar', t: tMs, v: r.v };
    const samples = r.series.filter((s) => !Number.isNaN(s.vals[0]!)).map((s) => ({ metric: s.labels, t: tMs, v: s.vals[0]! }));
    return { type: 'vector', samples };
  }

  /** Runs a log query. */
  logs(expr: LogExpr, start: bigint, end: bigint, limit: number, direction: Direction, stats?: LogqlStats): StreamsValue {
    const p = new Pipeline(expr.stages);
    const hint = p.hint();
    const picked: { key: string; labels: Labels; e: LogEntry }[] = [];
    for (const s of this.store.selectStreams(expr.matchers, start, end)) {
      let n = 0;
      const streamKey = labelsKey(s.labels);
      for (const e of this.store.entries(s, start, end, direction, hint)) {
        if (stats) {
          stats.linesScanned++;
          stats.bytesScanned += e.line.length;
        }
        const out = p.run(e.line, e.t, s.labels, e.meta);
        if (!out) continue;
        const key = out.labels === s.labels ? streamKey : labelsKey(out.labels);
        picked.push({ key, labels: out.labels, e: out.line === e.line ? e : { t: e.t, line: out.line } });
        if (++n >= limit) break;
      }
    }
    const sign = direction === 'forward' ? 1 : -1;
    picked.sort((a, b) => sign * (a.e.t < b.e.t ? -1 : a.e.t > b.e.t ? 1 : 0));
    const groups = new Map<string, ResultStream>();
    for (const x of picked.slice(0, limit)) {
      let g = groups.get(x.key);
      if (!g) groups.set(x.key, (g = { labels: x.labels, entries: [] }));
      g.entries.push(x.e);
    }
    return { type: 'streams', streams: [...groups.values()] };
  }

  private eval(e: MetricExpr, steps: number[], stats?: LogqlStats): Evaluated {
    switch (e.kind) {
      case 'num':
        return { kind: 'scalar', v: e.value };
      case 'vector':
        return { kind: 'vec', series: [{ labels: [], vals: new Float64Array(steps.length).fill(e.value) }] };
      case 'range':
        return { kind: 'vec', series: this.rangeAgg(e, steps, stats) };
      case 'agg': {
        const inner = this.eval(e.expr, steps, stats);
        if (inner.kind !== 'vec') throw new LogqlExecError(`${e.op} expects a vector`);
        return { kind: 'vec', series: aggregate(e.op, e.param, e.grouping, inner.series, steps.length) };
      }
      case 'bin':
        return binary(e.op, e.bool, e.on, this.eval(e.lhs, steps, stats), this.eval(e.rhs, steps, stats));
    }
  }

  private rangeAgg(e: Extract<MetricExpr, { kind: 'range' }>, steps: number[], stats?: LogqlStats): StepSeries[] {
    const p = new Pipeline(e.log.stages);
    const hint = p.hint();
    const first = steps[0]! - e.offsetMs;
    const last = steps[steps.length - 1]! - e.offsetMs;
    const start = BigInt(Math.floor(first - e.rangeMs)) * NS_PER_MS;
    const end = BigInt(Math.floor(last)) * NS_PER_MS + 1n;
    const byKey = new Map<string, { labels: Labels; ts: number[]; vs: number[]; sorted: boolean; ones: boolean }>();
    const unwrap = p.unwrapAt >= 0;
    const byBytes = e.fn === 'bytes_over_time' || e.fn === 'bytes_rate';
    const needles = countOnlyNeedles(e);
    for (const s of this.store.selectStreams(e.log.matchers, start, end)) {
      const streamKey = labelsKey(s.labels);
      if (needles) {
        // Only line filters and a function of the line count: the store counts in its columns.
        const { times, bytes } = this.store.matchTimes(s, start, end, needles, hint.tokens, stats !== undefined);
        if (stats) {
          stats.linesScanned += times.length;
          stats.bytesScanned += bytes;
        }
        if (!times.length) continue;
        const labels = e.grouping ? groupLabels(s.labels, e.grouping) : s.labels;
        const key = labels === s.labels ? streamKey : labelsKey(labels);
        const ser = byKey.get(key);
        if (!ser) {
          if (byKey.size >= this.maxSeries) throw new LogqlExecError(`maximum of series (${this.maxSeries}) reached for a single query`);
          // Every value is 1: no value array. The store's times are sorted: adopt them.
          byKey.set(key, { labels, ts: times, vs: [], sorted: true, ones: true });
          continue;
        }
        for (const t of times) {
          if (ser.ts.length && t < ser.ts[ser.ts.length - 1]!) ser.sorted = false;
          ser.ts.push(t);
        }
        continue;
      }
      for (const ent of this.store.entries(s, start, end, 'forward', hint)) {
        if (stats) {
          stats.linesScanned++;
          stats.bytesScanned += ent.line.length;
        }
        const out = p.run(ent.line, ent.t, s.labels, ent.meta);
        if (!out) continue;
        let labels = out.labels;
        if (e.grouping) labels = groupLabels(labels, e.grouping);
        const key = labels === s.labels ? streamKey : labelsKey(labels);
        let ser = byKey.get(key);
        if (!ser) {
          if (byKey.size >= this.maxSeries) throw new LogqlExecError(`maximum of series (${this.maxSeries}) reached for a single query`);
          byKey.set(key, (ser = { labels, ts: [], vs: [], sorted: true, ones: false }));
        }
        const t = Number(ent.t / 1000n) / 1000;
        if (ser.ts.length && t < ser.ts[ser.ts.length - 1]!) ser.sorted = false;
        ser.ts.push(t);
        ser.vs.push(unwrap ? out.value : byBytes ? Buffer.byteLength(ent.line) : 1);
      }
    }
    const rangeSec = e.rangeMs / 1000;
    const n = steps.length;
    if (e.fn === 'absent_over_time') {
      const vals = new Float64Array(n).fill(NaN);
      for (let i = 0; i < n; i++) {
        const hi = steps[i]! - e.offsetMs;
        const lo = hi - e.rangeMs;
        let any = false;
        for (const ser of byKey.values()) if (ser.ts.some((t) => t > lo && t <= hi)) any = true;
        if (!any) vals[i] = 1;
      }
      const labels = sortLabels(e.log.matchers.filter((m) => m.type === '=').map((m): Label => ({ name: m.name, value: m.value })));
      return [{ labels, vals }];
    }
    const out: StepSeries[] = [];
    for (const ser of byKey.values()) {
      if (!ser.sorted) {
        const idx = ser.ts.map((_, i) => i).sort((a, b) => ser.ts[a]! - ser.ts[b]!);
        ser.ts = idx.map((i) => ser.ts[i]!);
        if (!ser.ones) ser.vs = idx.map((i) => ser.vs[i]!);
      }
      const vals = new Float64Array(n).fill(NaN);
      let lo = 0;
      let hi = 0;
      for (let i = 0; i < n; i++) {
        const tEnd = steps[i]! - e.offsetMs;
        const tStart = tEnd - e.rangeMs;
        while (lo < ser.ts.length && ser.ts[lo]! <= tStart) lo++;
        if (hi < lo) hi = lo;
        while (hi < ser.ts.length && ser.ts[hi]! <= tEnd) hi++;
        if (hi <= lo) continue;
        vals[i] = rangeFn(e.fn, ser.vs, ser.ts, lo, hi, rangeSec, e.param, ser.ones);
      }
      out.push({ labels: ser.labels, vals });
    }
    return out;
  }
}

/**
 * The needles of a range aggregation whose value is a function of the line count alone over a
 * pipeline of `|= "text"` filters only, or undefined when the lines themselves are needed.
 */
function countOnlyNeedles(e: Extract<MetricExpr, { kind: 'range' }>): string[] | undefined {
  if (e.fn !== 'count_over_time' && e.fn !== 'rate' && e.fn !== 'absent_over_time') return undefined;
  const needles: string[] = [];
  for (const st of e.log.stages) {
    if (st.kind !== 'lineFilter' || st.op !== '|=' || st.values.length !== 1) return undefined;
    needles.push(st.values[0]!);
  }
  return needles;
}

function rangeFn(fn: string, vs: number[], ts: number[], lo: number, hi: number, rangeSec: number, param: number | undefined, ones = false): number {
  const count = hi - lo;
  // `ones`: every value is 1 (count-only queries keep no value array).
  if (ones) return fn === 'count_over_time' ? count : fn === 'rate' ? count / rangeSec : NaN;
  let sum = 0;
  for (let i = lo; i < hi; i++) sum += vs[i]!;
  switch (fn) {
    case 'count_over_time':
      return count;
    case 'rate':
    case 'bytes_rate':
      return sum / rangeSec;
    case 'bytes_over_time':
    case 'sum_over_time':
      return sum;
    case 'avg_over_time':
      return sum / count;
    case 'min_over_time': {
      let m = Infinity;
      for (let i = lo; i < hi; i++) m = Math.min(m, vs[i]!);
      return m;
    }
    case 'max_over_time': {
      let m = -Infinity;
      for (let i = lo; i < hi; i++) m = Math.max(m, vs[i]!);
      return m;
    }
    case 'stddev_over_time':
    case 'stdvar_over_time': {
      const mean = sum / count;
      let sq = 0;
      for (let i = lo; i < hi; i++) sq += (vs[i]! - mean) ** 2;
      const v = sq / count;
      return fn === 'stddev_over_time' ? Math.sqrt(v) : v;
    }
    case 'quantile_over_time':
      return quantile(param ?? 0.5, vs.slice(lo, hi));
    case 'first_over_time':
      return vs[lo]!;
    case 'last_over_time':
      return vs[hi - 1]!;
    case 'rate_counter': {
      // Counter increase with resets, over the range (no extrapolation).
      let inc = 0;
      for (let i = lo + 1; i < hi; i++) inc += vs[i]! >= vs[i - 1]! ? vs[i]! - vs[i - 1]! : vs[i]!;
      void ts;
      return inc / rangeSec;
    }
  }
  return NaN;
}

function aggregate(op: string, param: number | undefined, g: Grouping | undefined, series: StepSeries[], n: number): StepSeries[] {
  const groups = new Map<string, { labels: Labels; members: StepSeries[] }>();
  for (const s of series) {
    const labels = groupLabels(s.labels, g ?? { without: false, labels: [] });
    const key = labelsKey(labels);
    let grp = groups.get(key);
    if (!grp) groups.set(key, (grp = { labels, members: [] }));
    grp.members.push(s);
  }
  const out: StepSeries[] = [];
  if (op === 'topk' || op === 'bottomk') {
    const k = param ?? 1;
    const keep = new Map<StepSeries, Float64Array>();
    for (const grp of groups.values())
      for (let i = 0; i < n; i++) {
        const present = grp.members.filter((s) => !Number.isNaN(s.vals[i]!));
        present.sort((a, b) => (op === 'topk' ? b.vals[i]! - a.vals[i]! : a.vals[i]! - b.vals[i]!));
        for (const s of present.slice(0, k)) {
          let v = keep.get(s);
          if (!v) keep.set(s, (v = new Float64Array(n).fill(NaN)));
          v[i] = s.vals[i]!;
        }
      }
    for (const [s, vals] of keep) out.push({ labels: s.labels, vals });
    return out;
  }
  for (const grp of groups.values()) {
    const vals = new Float64Array(n).fill(NaN);
    for (let i = 0; i < n; i++) {
      const xs: number[] = [];
      for (const s of grp.members) if (!Number.isNaN(s.vals[i]!)) xs.push(s.vals[i]!);
      if (!xs.length) continue;
      const sum = xs.reduce((a, b) => a + b, 0);
      const mean = sum / xs.length;
      switch (op) {
        case 'sum':
          vals[i] = sum;
          break;
        case 'avg':
          vals[i] = mean;
          break;
        case 'min':
          vals[i] = Math.min(...xs);
          break;
        case 'max':
          vals[i] = Math.max(...xs);
          break;
        case 'count':
          vals[i] = xs.length;
          break;
        case 'stddev':
        case 'stdvar': {
          const v = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
          vals[i] = op === 'stddev' ? Math.sqrt(v) : v;
          break;
        }
      }
    }
    out.push({ labels: grp.labels, vals });
  }
  return out;
}

function arith(op: BinOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
    case '^':
      return a ** b;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    default:
      return NaN;
  }
}

const COMPARISONS = new Set<BinOp>(['==', '!=', '>', '>=', '<', '<=']);

function binary(op: BinOp, bool: boolean, on: Grouping | undefined, l: Evaluated, r: Evaluated): Evaluated {
  const cmp = COMPARISONS.has(op);
  if (l.kind === 'scalar' && r.kind === 'scalar') return { kind: 'scalar', v: arith(op, l.v, r.v) };
  if (op === 'and' || op === 'or' || op === 'unless') {
    if (l.kind !== 'vec' || r.kind !== 'vec') throw new LogqlExecError(`set operator "${op}" not allowed in binary scalar expression`);
    const sig = (s: StepSeries): string => labelsKey(on ? groupLabels(s.labels, on) : s.labels);
    const rIdx = new Map<string, StepSeries[]>();
    for (const s of r.series) rIdx.set(sig(s), [...(rIdx.get(sig(s)) ?? []), s]);
    const has = (k: string, i: number): boolean => (rIdx.get(k) ?? []).some((s) => !Number.isNaN(s.vals[i]!));
    const out: StepSeries[] = l.series.map((s) => {
      const k = sig(s);
      const vals = s.vals.map((v, i) => (op === 'and' ? (has(k, i) ? v : NaN) : op === 'unless' ? (has(k, i) ? NaN : v) : v));
      return { labels: s.labels, vals };
    });
    if (op === 'or') {
      const lIdx = new Map<string, StepSeries[]>();
      for (const s of l.series) lIdx.set(sig(s), [...(lIdx.get(sig(s)) ?? []), s]);
      for (const s of r.series) {
        const ls = lIdx.get(sig(s)) ?? [];
        out.push({ labels: s.labels, vals: s.vals.map((v, i) => (ls.some((x) => !Number.isNaN(x.vals[i]!)) ? NaN : v)) });
      }
    }
    return { kind: 'vec', series: out };
  }
  const apply = (a: number, b: number, keep: number): number => {
    if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
    const v = arith(op, a, b);
    if (!cmp || bool) return v;
    return v === 1 ? keep : NaN;
  };
  if (l.kind === 'vec' && r.kind === 'scalar') return { kind: 'vec', series: l.series.map((s) => ({ labels: s.labels, vals: s.vals.map((v) => apply(v, r.v, v)) })) };
  if (l.kind === 'scalar' && r.kind === 'vec') return { kind: 'vec', series: r.series.map((s) => ({ labels: s.labels, vals: s.vals.map((v) => apply(l.v, v, v)) })) };
  if (l.kind !== 'vec' || r.kind !== 'vec') throw new LogqlExecError('unsupported binary operation');
  const sig = (s: StepSeries): string => labelsKey(on ? groupLabels(s.labels, on) : s.labels);
  const rIdx = new Map<string, StepSeries>();
  for (const s of r.series) {
    const k = sig(s);
    if (rIdx.has(k)) throw new LogqlExecError('found duplicate series for the match group on the right hand-side of the operation');
    rIdx.set(k, s);
  }
  const out: StepSeries[] = [];
  for (const s of l.series) {
    const m = rIdx.get(sig(s));
    if (!m) continue;
    const labels = on && !on.without && !cmp ? groupLabels(s.labels, on) : s.labels;
    out.push({ labels, vals: s.vals.map((v, i) => apply(v, m.vals[i]!, v)) });
  }
  return { kind: 'vec', series: out };
}
