/**
 * The differential test's queries: a broad, deterministic set of PromQL expressions over the data of
 * `data.ts`, each evaluated as instant queries at several times and as range queries with varied
 * steps. Every function Prometheus 2.42 and 3.x share for float samples, every binary operator and
 * aggregation, offsets, `@` and subqueries appear.
 *
 * Times, ranges, steps, offsets and subquery steps are whole seconds while samples are not (see
 * `PHASES` in data.ts), and every query time ends in 7 s, so it is never a multiple of a subquery
 * step (10 s, 20 s, 30 s, 1 m): no sample and no subquery point lies on a window's left boundary,
 * where 2.42 (closed) and 3.x (left-open) differ.
 */
import { T0 } from './data.js';

/** One expression and how to compare its results. */
export interface QueryExpr {
  readonly expr: string;
  /**
   * Order of an instant result is part of the answer (sort, sort_desc, ungrouped topk/bottomk):
   * values must come in the same sequence. Elsewhere results are compared as sets.
   */
  readonly ordered: boolean;
  /**
   * The expression has a subquery, so range queries use only steps that keep every evaluation time
   * off the subquery's step grid (15 s, 30 s, 1 m from a start ending in 7 s; never 47 s).
   */
  readonly subquery: boolean;
}

/** One HTTP query to send to both servers. */
export type QueryCase =
  | { readonly kind: 'instant'; readonly expr: QueryExpr; readonly time: number }
  | { readonly kind: 'range'; readonly expr: QueryExpr; readonly start: number; readonly end: number; readonly step: number };

/** Instant query times (seconds since the epoch): during, in the gaps of, and after the data. */
export const INSTANT_TIMES: readonly number[] = [437, 1297, 2027, 2867, 3597, 3727, 3987].map((s) => T0 / 1000 + s);

interface RangeSpec {
  readonly start: number;
  readonly end: number;
  readonly step: number;
}

const R = (start: number, end: number, step: number): RangeSpec => ({ start: T0 / 1000 + start, end: T0 / 1000 + end, step });
/** Range query shapes: the whole hour (and past its end, into staleness) at several steps, and a short window. */
export const RANGE_SPECS: readonly RangeSpec[] = [R(607, 3847, 15), R(607, 3847, 30), R(607, 3847, 60), R(607, 3847, 47), R(1807, 2407, 15), R(17, 3617, 30)];

const RANGES = ['1m', '5m', '13m'] as const;

const COUNTERS = [
  'dt_http_requests_total',
  'dt_cpu_seconds_total{mode="user"}',
  'dt_batch_processed_total',
  'dt_request_duration_seconds_count',
  'dt_http_requests_total{code="500"}',
] as const;

const GAUGES = [
  'dt_temperature_celsius',
  'dt_memory_bytes{job=~"api|db"}',
  'dt_queue_length',
  'dt_batch_running',
  'dt_temperature_celsius{sensor="outlet",job="worker"}',
] as const;

/** Builds the expression list. Deterministic: the same code gives the same list, in the same order. */
export function generateExprs(): QueryExpr[] {
  const out: QueryExpr[] = [];
  const seen = new Set<string>();
  const add = (expr: string): void => {
    if (seen.has(expr)) throw new Error(`duplicate query ${expr}`);
    seen.add(expr);
    // topk/bottomk with grouping order their groups arbitrarily; only the ungrouped form is a sequence.
    const grouped = /\)\s*(by|without)\s*\([^()]*\)$/.test(expr);
    const ordered = /^(sort|sort_desc)\(/.test(expr) || (/^(topk|bottomk)\(/.test(expr) && !grouped);
    out.push({ expr, ordered, subquery: /\[\d+[smh]?\d*[smh]?:\d+[smh]\]/.test(expr) });
  };
  const rot = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;

  // ---- selectors ----
  for (const s of [
    'dt_http_requests_total',
    'dt_temperature_celsius{sensor="inlet"}',
    'dt_build_info',
    'dt_batch_running',
    'dt_special',
    'dt_queue_length{job!="db"}',
    'dt_temperature_celsius{instance=~"api-.*"}',
    'dt_cpu_seconds_total{instance!~"worker.*",mode="system"}',
    '{__name__=~"dt_batch_.*", job="worker"}',
    '{__name__=~"dt_(memory_bytes|queue_length)"}',
    'dt_request_duration_seconds_bucket{handler="/pay",instance="api-0:8080"}',
    'dt_does_not_exist',
    'dt_queue_length offset 5m',
    'dt_queue_length offset -2m',
    'dt_memory_bytes @ 1700001207',
    'dt_memory_bytes @ start()',
    'dt_batch_running @ end()',
    'dt_temperature_celsius offset 10m @ 1700002407',
    'dt_queue_length{__name__="dt_queue_length"}',
    'dt_queue_length{job=~""}',
    'dt_queue_length{nonexistent=""}',
    'dt_queue_length{nonexistent!=""}',
    '{job=~"api|db", __name__=~"dt_mem.*"}',
    'dt_queue_length{instance=~"(?i)API-.*"}',
    'dt_queue_length{instance!~"api-[01]:8080|db.+"}',
    'dt_queue_length * 1e-300 * 1e-20',
  ])
    add(s);
  // Raw range selectors (instant queries only; a range query of a matrix is an error on both).
  for (const s of [
    'dt_queue_length[1m]',
    'dt_batch_running[5m]',
    'dt_special[2m]',
    'dt_build_info{instance="api-2:8080"}[5m]',
    'dt_batch_processed_total[3m] offset 1m',
  ])
    add(s);

  // ---- range-vector functions ----
  COUNTERS.forEach((c, i) => {
    for (const r of RANGES) for (const f of ['rate', 'irate', 'increase', 'resets']) add(`${f}(${c}[${r}])`);
    add(`rate(${c}[5m] offset ${rot(['1m', '10m', '30s'], i)})`);
    add(`increase(${c}[${rot(RANGES, i + 1)}] @ ${T0 / 1000 + 1807})`);
  });
  GAUGES.forEach((g, i) => {
    for (const r of RANGES) {
      for (const f of [
        'delta',
        'idelta',
        'deriv',
        'changes',
        'avg_over_time',
        'min_over_time',
        'max_over_time',
        'sum_over_time',
        'count_over_time',
        'last_over_time',
        'present_over_time',
        'stddev_over_time',
        'stdvar_over_time',
      ]) {
        add(`${f}(${g}[${r}])`);
      }
    }
    add(`quantile_over_time(${rot(['0.9', '0.5', '0', '1', '0.25'], i)}, ${g}[${rot(RANGES, i)}])`);
    add(`quantile_over_time(0.75, ${g}[${rot(RANGES, i + 1)}])`);
    add(`predict_linear(${g}[${rot(RANGES, i)}], ${rot(['600', '3600', '-300', '0', '60'], i)})`);
    add(`predict_linear(${g}[${rot(RANGES, i + 2)}] offset 3m, 120)`);
  });
  add('quantile_over_time(-0.5, dt_queue_length[5m])');
  add('quantile_over_time(1.5, dt_queue_length[5m])');
  for (const r of RANGES) {
    add(`changes(dt_http_requests_total{code="500"}[${r}])`);
    add(`absent_over_time(dt_batch_running{instance="worker-0:9000"}[${r}])`);
    add(`absent_over_time(dt_batch_running{instance="worker-1:9000",job="worker"}[${r}])`);
  }
  add('absent_over_time(dt_does_not_exist{job="x",instance=~"y.*"}[5m])');
  add('absent_over_time(dt_queue_length[5m])');
  for (const f of ['rate', 'deriv', 'avg_over_time', 'max_over_time', 'changes', 'count_over_time']) add(`${f}(dt_special[5m])`);

  // ---- instant-vector functions ----
  const mathInputs = ['dt_temperature_celsius', 'dt_memory_bytes', 'dt_queue_length', 'dt_special'];
  const mathFns = [
    'abs',
    'ceil',
    'floor',
    'exp',
    'ln',
    'log2',
    'log10',
    'sqrt',
    'sgn',
    'round',
    'deg',
    'rad',
    'sin',
    'cos',
    'tan',
    'asin',
    'acos',
    'atan',
    'sinh',
    'cosh',
    'tanh',
    'asinh',
    'acosh',
    'atanh',
  ];
  mathFns.forEach((f, i) => {
    add(`${f}(${rot(mathInputs, i)})`);
    // Trigonometric and exponential functions again on small inputs, where results are finite.
    add(`${f}(dt_temperature_celsius{sensor="outlet"} / 50)`);
  });
  add('exp(dt_queue_length)');
  add('round(dt_temperature_celsius, 0.5)');
  add('round(dt_memory_bytes, 1e6)');
  add('round(dt_temperature_celsius, 3)');
  add('round(-dt_queue_length / 4)');
  add('clamp(dt_temperature_celsius, 0, 30)');
  add('clamp(dt_temperature_celsius, 30, 0)');
  add('clamp_min(dt_temperature_celsius, 20)');
  add('clamp_max(dt_queue_length, 5)');
  add('clamp_max(dt_special, 10)');
  add('clamp_min(rate(dt_http_requests_total[5m]), 1)');
  add('timestamp(dt_queue_length)');
  add('timestamp(dt_batch_running)');
  add('timestamp(dt_memory_bytes offset 2m)');
  add('timestamp(vector(1))');
  for (const f of ['day_of_week', 'day_of_month', 'day_of_year', 'days_in_month', 'hour', 'minute', 'month', 'year']) {
    add(`${f}()`);
    add(`${f}(dt_memory_bytes)`);
    add(`${f}(timestamp(dt_queue_length{job="api"}))`);
  }
  add('sort(dt_temperature_celsius)');
  add('sort_desc(dt_temperature_celsius)');
  add('sort(rate(dt_http_requests_total[5m]))');
  add('sort_desc(sum by (instance) (rate(dt_cpu_seconds_total[5m])))');
  add('sort_desc(dt_memory_bytes)');
  add('sort(dt_special)');
  add('sort_desc(dt_special)');
  add('scalar(sum(dt_queue_length))');
  add('scalar(dt_queue_length)');
  add('scalar(dt_queue_length{instance="db-0:9187"})');
  add('dt_queue_length * scalar(dt_build_info{instance="db-0:9187"})');
  add('vector(1)');
  add('vector(time())');
  add('vector(scalar(max(dt_temperature_celsius)))');
  add('time()');
  add('time() - 1700000000');
  add('pi()');
  add('label_replace(dt_queue_length, "host", "$1", "instance", "(.*):.*")');
  add('label_replace(dt_queue_length, "host", "$1", "instance", "nomatch(.*)")');
  add('label_replace(dt_queue_length, "job", "j-$1", "job", "(.+)")');
  add('label_replace(dt_queue_length, "instance", "", "instance", ".*")');
  add('label_replace(rate(dt_cpu_seconds_total[5m]), "port", "${2}", "instance", "([a-z]+)-[0-9]:([0-9]+)")');
  add('label_join(dt_memory_bytes, "combo", "/", "job", "instance")');
  add('label_join(dt_memory_bytes, "combo", "", "instance")');
  add('label_join(dt_memory_bytes, "job", ",", "missing", "job")');
  add('absent(dt_batch_running{instance="worker-0:9000",job="worker"})');
  add('absent(dt_does_not_exist{job="x",instance=~"y.*"})');
  add('absent(dt_queue_length)');
  add('absent(sum(dt_does_not_exist))');
  add('absent(rate(dt_batch_processed_total{instance="worker-1:9000"}[1m]))');
  add('absent(dt_nope{job="a",job="b",instance=~"x"})');
  add('count(dt_nope) or vector(0)');
  add('sum(dt_nope)');
  add('label_join(dt_queue_length, "named", "-", "__name__", "job")');
  add('label_replace(dt_queue_length, "short", "${host}", "instance", "(?P<host>[a-z]+)-.*")');
  add('label_replace(dt_queue_length, "x", "$1$2", "instance", "(api)-(.)")');
  for (const f of ['hour', 'day_of_week', 'round', 'timestamp']) add(`${f}(dt_special)`);
  add('resets(dt_special[5m])');
  add('predict_linear(dt_special[5m], 60)');
  add('-dt_special');

  // ---- histograms ----
  for (const q of ['0.5', '0.9', '0.99', '0', '1', '1.5', '-1']) add(`histogram_quantile(${q}, sum by (le) (rate(dt_request_duration_seconds_bucket[5m])))`);
  RANGES.forEach((r, i) => {
    add(`histogram_quantile(${rot(['0.95', '0.75', '0.1'], i)}, rate(dt_request_duration_seconds_bucket[${r}]))`);
    add(`histogram_quantile(0.9, sum by (le, handler) (increase(dt_request_duration_seconds_bucket[${r}])))`);
    add(`histogram_quantile(0.5, sum without (instance) (rate(dt_request_duration_seconds_bucket[${r}])))`);
  });
  add('histogram_quantile(0.9, dt_request_duration_seconds_bucket)');
  add('histogram_quantile(0.9, dt_request_duration_seconds_bucket{le!="+Inf"})');
  add('histogram_quantile(0.5, sum by (le) (dt_request_duration_seconds_bucket{le=~"0.1|0.5|\\\\+Inf"}))');
  add('sum by (handler) (rate(dt_request_duration_seconds_sum[5m])) / sum by (handler) (rate(dt_request_duration_seconds_count[5m]))');
  add(
    'sum by (handler) (rate(dt_request_duration_seconds_bucket{le="0.25"}[5m])) / ignoring(le) sum by (handler) (rate(dt_request_duration_seconds_count[5m]))',
  );

  // ---- aggregations ----
  const aggInputs = [
    'dt_temperature_celsius',
    'rate(dt_http_requests_total[5m])',
    'dt_memory_bytes',
    'dt_queue_length',
    'dt_special',
    'irate(dt_cpu_seconds_total[1m])',
  ];
  const groupings = ['', ' by (job)', ' without (instance)', ' by (job, sensor)', ' without (instance, job)', ' by ()'];
  ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count'].forEach((op, i) => {
    aggInputs.forEach((input, j) => {
      const g = rot(groupings, i + j);
      add(g.startsWith(' by (job, sensor)') && (i + j) % 2 === 0 ? `${op}(${input})${g}` : `${op}${g} (${input})`);
    });
  });
  add('count_values("value", dt_queue_length)');
  add('count_values by (job) ("v", dt_queue_length)');
  add('count_values("code", dt_build_info)');
  add('count_values without (instance) ("bucket", round(dt_temperature_celsius / 10))');
  // The label values are float formatting (Go's 'f', -1): decimals, large and tiny magnitudes, specials.
  add('count_values("v", dt_temperature_celsius)');
  add('count_values("v", rate(dt_http_requests_total[5m]))');
  add('count_values("v", dt_memory_bytes * 1e20)');
  add('count_values("v", dt_queue_length * 1e-9)');
  add('count_values("v", dt_special)');
  for (const [op, k] of [
    ['topk', '3'],
    ['bottomk', '2'],
    ['topk', '1'],
    ['bottomk', '100'],
    ['topk', '0'],
  ] as const) {
    add(`${op}(${k}, dt_temperature_celsius)`);
    add(`${op} by (job) (${k}, dt_memory_bytes)`);
    // Inputs without ties at the cut-off: which of two equal values topk keeps is not defined.
    add(`${op}(${k}, rate(dt_cpu_seconds_total[5m])) without (mode, instance)`);
  }
  add('topk(2, dt_special)');
  add('bottomk(2, dt_special)');
  add('topk(scalar(count(dt_build_info)) - 4, dt_memory_bytes)');
  for (const [phi, input] of [
    ['0.5', 'dt_temperature_celsius'],
    ['0.9', 'rate(dt_http_requests_total[5m])'],
    ['0', 'dt_memory_bytes'],
    ['1', 'dt_queue_length'],
    ['0.25', 'dt_special'],
    ['1.5', 'dt_queue_length'],
    ['-0.5', 'dt_queue_length'],
  ] as const) {
    add(`quantile(${phi}, ${input})`);
    add(`quantile by (job) (${phi}, ${input})`);
  }
  add('sum(sum by (job, instance) (rate(dt_cpu_seconds_total[5m])))');
  add('max by (job) (avg_over_time(dt_temperature_celsius[13m]))');
  add('count(count by (job) (dt_build_info))');
  add('avg without (sensor) (dt_temperature_celsius) > bool 20');

  // ---- binary operators ----
  const arith = ['+', '-', '*', '/', '%', '^', 'atan2'];
  arith.forEach((op, i) => {
    add(`dt_queue_length ${op} ${rot(['2', '3', '0', '0.5', '-1', '1.5', '10'], i)}`);
    add(`${rot(['100', '-4', '7', '0', '2', '1e3', '3'], i)} ${op} dt_temperature_celsius`);
    add(`dt_cpu_seconds_total{mode="user"} ${op} ignoring(mode) dt_cpu_seconds_total{mode="system"}`);
    add(`rate(dt_http_requests_total[5m]) ${op} on(job, instance) group_left dt_queue_length`);
    add(`${rot(['2', '1', '5', '-3', '0.5', '4', '9'], i)} ${op} ${rot(['3', '0', '2', '2', '-2', '0.5', '-1'], i)}`);
  });
  add('-dt_temperature_celsius');
  add('+dt_queue_length');
  add('-(dt_queue_length offset 1m)');
  add('dt_memory_bytes / on(job, instance) group_left(version) dt_build_info');
  add('dt_build_info * on(job, instance) group_right(version) dt_queue_length');
  add('dt_queue_length + on(instance) group_left(version, job) dt_build_info');
  add('dt_temperature_celsius - on(job, instance) group_left dt_queue_length');
  add('dt_queue_length * ignoring(sensor) group_right dt_temperature_celsius');
  add('sum by (job, instance) (rate(dt_cpu_seconds_total[5m])) / on(job, instance) dt_memory_bytes');
  add('rate(dt_request_duration_seconds_sum[5m]) / rate(dt_request_duration_seconds_count[5m])');
  add('dt_temperature_celsius{sensor="inlet"} - ignoring(sensor) dt_temperature_celsius{sensor="outlet"}');
  add('dt_temperature_celsius / dt_queue_length');
  add('dt_special * 2');
  // atan2 keeps the metric name in 2.42 (see known-differences.ts); these nameless operands compare its values.
  add('(dt_queue_length * 1) atan2 10');
  add('3 atan2 (dt_temperature_celsius * 1)');
  add('rate(dt_cpu_seconds_total{mode="user"}[5m]) atan2 ignoring(mode) rate(dt_cpu_seconds_total{mode="system"}[5m])');
  add('dt_special / on(job, instance) group_left dt_queue_length');
  for (const op of ['==', '!=', '>', '<', '>=', '<=']) {
    add(`dt_queue_length ${op} 5`);
    add(`dt_queue_length ${op} bool 5`);
    add(`7 ${op} dt_queue_length`);
    add(`dt_temperature_celsius{sensor="inlet"} ${op} ignoring(sensor) dt_temperature_celsius{sensor="outlet"}`);
    add(`dt_temperature_celsius{sensor="inlet"} ${op} bool ignoring(sensor) dt_temperature_celsius{sensor="outlet"}`);
    add(`rate(dt_http_requests_total[5m]) ${op} on(job, instance) group_left dt_queue_length`);
    add(`2 ${op} bool 3`);
    add(`dt_special ${op} 10`);
  }
  add('dt_queue_length and dt_queue_length > 5');
  add('dt_queue_length and on(job) dt_batch_running');
  add('dt_queue_length and ignoring(sensor) dt_temperature_celsius > 20');
  add('dt_queue_length or dt_batch_running');
  add('dt_batch_running or on(job) dt_queue_length');
  add('dt_batch_running or dt_batch_processed_total');
  add('dt_queue_length unless dt_queue_length > 5');
  add('dt_queue_length unless on(job) dt_batch_running');
  add('dt_queue_length unless ignoring(instance) dt_memory_bytes');
  add('(dt_queue_length > 3) and (dt_queue_length < 10) or vector(42)');
  add('dt_queue_length > 2 unless on(instance) dt_batch_running > 1');
  add('rate(dt_http_requests_total[5m]) > 0.5 and on(instance) dt_queue_length > 2');
  add('dt_queue_length + dt_queue_length * 2 - 1 / dt_queue_length ^ 2 ^ 0.5');
  add('(1 + 2) * 3 % 4');
  add('2 ^ 3 ^ 2');
  add('-2 ^ 2');

  // ---- subqueries ----
  for (const [range, step] of [
    ['30m', '1m'],
    ['10m', '30s'],
    ['13m', '20s'],
    ['5m', '10s'],
  ] as const) {
    add(`max_over_time(rate(dt_http_requests_total[5m])[${range}:${step}])`);
    add(`avg_over_time(dt_temperature_celsius[${range}:${step}])`);
    add(`min_over_time(deriv(dt_memory_bytes[5m])[${range}:${step}])`);
    add(`sum_over_time(sum by (job) (dt_queue_length)[${range}:${step}])`);
  }
  add('rate(dt_http_requests_total[10m:1m])');
  add('increase(dt_batch_processed_total[13m:30s])');
  add('max_over_time(dt_batch_running[10m:20s])');
  add('count_over_time(dt_batch_running[10m:1m])');
  add('last_over_time(dt_special[5m:30s])');
  add('sum_over_time(sum(dt_queue_length)[5m:20s] offset 5m)');
  add('avg_over_time(max(dt_temperature_celsius)[10m:30s] @ 1700002407)');
  add('max_over_time(rate(dt_cpu_seconds_total[1m])[5m:1m] offset 2m)');
  add('quantile_over_time(0.9, rate(dt_http_requests_total[5m])[13m:1m])');
  add('stddev_over_time(avg(dt_queue_length)[10m:20s])');
  add('changes(max(dt_queue_length)[10m:30s])');
  add('deriv(sum(rate(dt_cpu_seconds_total[5m]))[10m:30s])');
  // The inner range is not a multiple of the outer step, so inner windows never start on a point.
  add('max_over_time(max_over_time(dt_queue_length[150s:20s])[10m:1m])');
  add('absent_over_time(dt_batch_running{instance="worker-0:9000"}[10m:1m])');

  // ---- literals and errors (both servers must refuse the same way) ----
  add('42');
  add('-1.5e3');
  add('"hello"');
  add('Inf');
  add('-Inf + 1');
  add('NaN');
  add('abs({__name__=~"dt_batch_.*"})');
  add('dt_queue_length + on(job) dt_memory_bytes');
  add('sum(dt_queue_length) by (job) / on(job) group_left dt_queue_length');
  return out;
}

/**
 * Expands expressions into HTTP queries: each is queried instantly at three of
 * {@link INSTANT_TIMES} and as two range queries of {@link RANGE_SPECS}, rotating so that together
 * all times and shapes are covered. Raw range selectors and string literals have no range form.
 */
export function expandCases(exprs: readonly QueryExpr[]): QueryCase[] {
  const out: QueryCase[] = [];
  exprs.forEach((expr, i) => {
    for (let k = 0; k < 3; k++) out.push({ kind: 'instant', expr, time: INSTANT_TIMES[(i * 3 + k) % INSTANT_TIMES.length]! });
    // A matrix or string result cannot be a range query's result; both servers refuse it alike,
    // which one range query per expression checks.
    const rawRange = /\]( offset [^)]*)?$/.test(expr.expr) || expr.expr.startsWith('"');
    const specs = expr.subquery ? RANGE_SPECS.filter((s) => s.step !== 47) : RANGE_SPECS;
    const n = rawRange ? 1 : 2;
    for (let k = 0; k < n; k++) {
      const s = specs[(i * 2 + k) % specs.length]!;
      out.push({ kind: 'range', expr, start: s.start, end: s.end, step: s.step });
    }
  });
  return out;
}

/** A short description of a case for messages. */
export function describeCase(c: QueryCase): string {
  return c.kind === 'instant' ? `instant @${c.time}: ${c.expr.expr}` : `range [${c.start}..${c.end} step ${c.step}s]: ${c.expr.expr}`;
}
