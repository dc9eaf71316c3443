/**
 * The PromQL function table of Prometheus 3.x (float samples), with argument and return types used
 * by the parser's type checker. Histogram functions are listed because they parse (and apply to
 * classic `_bucket` series); native histogram samples are the engine's concern.
 */

import type { ValueType } from './ast.js';

/** A PromQL function's signature. */
export interface FunctionDef {
  /** The name as written in queries. */
  readonly name: string;
  /** Argument types; with {@link variadic} the last one repeats. */
  readonly argTypes: readonly ValueType[];
  /**
   * 0: exactly `argTypes.length` arguments. n > 0: the last argument is optional and may repeat up
   * to n times in total. -1: the last argument may repeat without limit. In both variadic cases at
   * least `argTypes.length - 1` arguments are required.
   */
  readonly variadic: number;
  /** The type of the result. */
  readonly returnType: ValueType;
  /** Experimental in Prometheus (behind `--enable-feature=promql-experimental-functions`). */
  readonly experimental: boolean;
}

function fn(
  name: string,
  argTypes: readonly ValueType[],
  returnType: ValueType,
  extra: { readonly variadic?: number; readonly experimental?: boolean } = {},
): FunctionDef {
  return { name, argTypes, returnType, variadic: extra.variadic ?? 0, experimental: extra.experimental ?? false };
}

const V = 'vector';
const M = 'matrix';
const S = 'scalar';
const STR = 'string';
const EXP = { experimental: true } as const;

const DEFS: readonly FunctionDef[] = [
  fn('abs', [V], V),
  fn('absent', [V], V),
  fn('absent_over_time', [M], V),
  fn('acos', [V], V),
  fn('acosh', [V], V),
  fn('asin', [V], V),
  fn('asinh', [V], V),
  fn('atan', [V], V),
  fn('atanh', [V], V),
  fn('avg_over_time', [M], V),
  fn('ceil', [V], V),
  fn('changes', [M], V),
  fn('clamp', [V, S, S], V),
  fn('clamp_max', [V, S], V),
  fn('clamp_min', [V, S], V),
  fn('cos', [V], V),
  fn('cosh', [V], V),
  fn('count_over_time', [M], V),
  fn('days_in_month', [V], V, { variadic: 1 }),
  fn('day_of_month', [V], V, { variadic: 1 }),
  fn('day_of_week', [V], V, { variadic: 1 }),
  fn('day_of_year', [V], V, { variadic: 1 }),
  fn('deg', [V], V),
  fn('delta', [M], V),
  fn('deriv', [M], V),
  fn('double_exponential_smoothing', [M, S, S], V, EXP),
  fn('end', [], S, EXP),
  fn('exp', [V], V),
  fn('first_over_time', [M], V),
  fn('floor', [V], V),
  fn('histogram_avg', [V], V),
  fn('histogram_count', [V], V),
  fn('histogram_fraction', [S, S, V], V),
  fn('histogram_quantile', [S, V], V),
  fn('histogram_quantiles', [V, STR, S, S], V, { variadic: 9, experimental: true }),
  fn('histogram_stddev', [V], V),
  fn('histogram_stdvar', [V], V),
  fn('histogram_sum', [V], V),
  fn('hour', [V], V, { variadic: 1 }),
  fn('idelta', [M], V),
  fn('increase', [M], V),
  fn('info', [V, V], V, { variadic: 1, experimental: true }),
  fn('irate', [M], V),
  fn('label_join', [V, STR, STR, STR], V, { variadic: -1 }),
  fn('label_replace', [V, STR, STR, STR, STR], V),
  fn('last_over_time', [M], V),
  fn('ln', [V], V),
  fn('log10', [V], V),
  fn('log2', [V], V),
  fn('mad_over_time', [M], V, EXP),
  fn('max_of', [S, S], S, EXP),
  fn('max_over_time', [M], V),
  fn('min_of', [S, S], S, EXP),
  fn('min_over_time', [M], V),
  fn('minute', [V], V, { variadic: 1 }),
  fn('month', [V], V, { variadic: 1 }),
  fn('pi', [], S),
  fn('predict_linear', [M, S], V),
  fn('present_over_time', [M], V),
  fn('quantile_over_time', [S, M], V),
  fn('rad', [V], V),
  fn('range', [], S, EXP),
  fn('rate', [M], V),
  fn('resets', [M], V),
  fn('round', [V, S], V, { variadic: 1 }),
  fn('scalar', [V], S),
  fn('sgn', [V], V),
  fn('sin', [V], V),
  fn('sinh', [V], V),
  fn('sort', [V], V),
  fn('sort_by_label', [V, STR], V, { variadic: -1, experimental: true }),
  fn('sort_by_label_desc', [V, STR], V, { variadic: -1, experimental: true }),
  fn('sort_desc', [V], V),
  fn('sqrt', [V], V),
  fn('start', [], S, EXP),
  fn('stddev_over_time', [M], V),
  fn('stdvar_over_time', [M], V),
  fn('step', [], S, EXP),
  fn('sum_over_time', [M], V),
  fn('tan', [V], V),
  fn('tanh', [V], V),
  fn('time', [], S),
  fn('timestamp', [V], V),
  fn('ts_of_first_over_time', [M], V, EXP),
  fn('ts_of_last_over_time', [M], V, EXP),
  fn('ts_of_max_over_time', [M], V, EXP),
  fn('ts_of_min_over_time', [M], V, EXP),
  fn('vector', [S], V),
  fn('year', [V], V, { variadic: 1 }),
];

/** Every PromQL function, by name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDef> = new Map(DEFS.map((d) => [d.name, d]));

/** The function named `name`, or undefined when PromQL has no such function. Names are case-sensitive. */
export function getFunction(name: string): FunctionDef | undefined {
  return FUNCTIONS.get(name);
}

/** Aggregation operators, as written in queries. */
export const AGGREGATE_OPS = [
  'sum',
  'avg',
  'count',
  'min',
  'max',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'count_values',
  'quantile',
  'limitk',
  'limit_ratio',
] as const;
/** One of {@link AGGREGATE_OPS}. */
export type AggregateOp = (typeof AGGREGATE_OPS)[number];

/** Aggregations that take a parameter before the vector (`topk(3, x)`, `count_values("v", x)`). */
export function aggregateHasParam(op: AggregateOp): boolean {
  return op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values' || op === 'limitk' || op === 'limit_ratio';
}

/** Aggregations Prometheus keeps behind the experimental-functions flag. */
export function aggregateIsExperimental(op: AggregateOp): boolean {
  return op === 'limitk' || op === 'limit_ratio';
}
