/**
 * The syntax tree of TraceQL, as Tempo documents the language: spanset filters over span fields,
 * spanset operators (logical and structural), the pipeline (aggregates, `by`, `select`,
 * `coalesce`) and the metrics functions that turn matched spans into time series.
 */
import type { SpanKind, StatusCode } from '../storage/types.js';

/** Comparison operators of field expressions and scalar filters. */
export type CmpOp = '=' | '!=' | '>' | '>=' | '<' | '<=' | '=~' | '!~';
export type ArithOp = '+' | '-' | '*' | '/' | '%' | '^';
export type FieldBinOp = CmpOp | ArithOp | '&&' | '||';

/** Operators between spansets: logical, structural, their negations (`!>`) and unions (`&>`). */
export type SpansetOp = '&&' | '||' | '>' | '>>' | '<' | '<<' | '~' | '!>' | '!>>' | '!<' | '!<<' | '!~' | '&>' | '&>>' | '&<' | '&<<' | '&~';

export const SPANSET_OPS: readonly SpansetOp[] = ['&&', '||', '>', '>>', '<', '<<', '~', '!>', '!>>', '!<', '!<<', '!~', '&>', '&>>', '&<', '&<<', '&~'];

/** A literal. Durations are kept in nanoseconds. */
export type Static =
  | { readonly type: 'string'; readonly v: string }
  | { readonly type: 'int'; readonly v: number }
  | { readonly type: 'float'; readonly v: number }
  | { readonly type: 'duration'; readonly v: number }
  | { readonly type: 'bool'; readonly v: boolean }
  | { readonly type: 'nil' }
  | { readonly type: 'status'; readonly v: StatusCode }
  | { readonly type: 'kind'; readonly v: SpanKind };

/** Span and trace fields that are not attributes. */
export type Intrinsic =
  | 'duration'
  | 'name'
  | 'status'
  | 'statusMessage'
  | 'kind'
  | 'rootName'
  | 'rootServiceName'
  | 'traceDuration'
  | 'spanID'
  | 'parentID'
  | 'traceID'
  | 'instrumentationName'
  | 'instrumentationVersion'
  | 'childCount'
  | 'nestedSetLeft'
  | 'nestedSetRight'
  | 'nestedSetParent'
  | 'eventName'
  | 'eventTimeSinceStart'
  | 'linkTraceID'
  | 'linkSpanID';

/**
 * Where an attribute is looked up; `any` is the unscoped `.name` (span first, then resource);
 * `event` and `link` read the span's events' and links' attributes (a match on any one of them).
 */
export type AttrScope = 'span' | 'resource' | 'any' | 'event' | 'link';

export type FieldExpr =
  | { readonly t: 'static'; readonly v: Static; readonly pos: number }
  | { readonly t: 'attr'; readonly scope: AttrScope; readonly name: string; readonly text: string; readonly pos: number }
  | { readonly t: 'intrinsic'; readonly which: Intrinsic; readonly text: string; readonly pos: number }
  | { readonly t: 'binary'; readonly op: FieldBinOp; readonly l: FieldExpr; readonly r: FieldExpr; readonly pos: number }
  | { readonly t: 'unary'; readonly op: '!' | '-'; readonly e: FieldExpr; readonly pos: number };

/** An attribute or an intrinsic: what `select`, `by` of metrics and aggregates name. */
export type FieldRef = Extract<FieldExpr, { t: 'attr' } | { t: 'intrinsic' }>;

export type SpansetExpr =
  | { readonly t: 'filter'; readonly expr: FieldExpr | null; readonly pos: number }
  | { readonly t: 'op'; readonly op: SpansetOp; readonly l: SpansetExpr; readonly r: SpansetExpr; readonly pos: number }
  | { readonly t: 'group'; readonly pipeline: Pipeline; readonly pos: number };

export type AggregateFn = 'count' | 'avg' | 'min' | 'max' | 'sum';

export type PipelineElement =
  | SpansetExpr
  | { readonly t: 'scalar'; readonly fn: AggregateFn; readonly field: FieldExpr | null; readonly op: CmpOp; readonly value: Static; readonly pos: number }
  | { readonly t: 'by'; readonly field: FieldExpr; readonly text: string; readonly pos: number }
  | { readonly t: 'select'; readonly fields: readonly FieldRef[]; readonly pos: number }
  | { readonly t: 'coalesce'; readonly pos: number };

export interface Pipeline {
  readonly elements: readonly PipelineElement[];
}

export type MetricsFnName =
  'rate' | 'count_over_time' | 'quantile_over_time' | 'histogram_over_time' | 'min_over_time' | 'max_over_time' | 'avg_over_time' | 'sum_over_time';

export const METRICS_FNS: readonly MetricsFnName[] = [
  'rate',
  'count_over_time',
  'quantile_over_time',
  'histogram_over_time',
  'min_over_time',
  'max_over_time',
  'avg_over_time',
  'sum_over_time',
];

/** The metrics stage that ends a query: `| rate() by (resource.service.name)`. */
export interface MetricsStage {
  readonly fn: MetricsFnName;
  /** The field the `*_over_time` functions other than count read. */
  readonly field: FieldRef | null;
  /** The quantiles of `quantile_over_time`, in [0, 1]. */
  readonly quantiles: readonly number[];
  readonly by: readonly FieldRef[];
  /** A trailing `| topk(n)` or `| bottomk(n)`: per step, only the n highest (lowest) series. */
  readonly top: { readonly fn: 'topk' | 'bottomk'; readonly n: number } | null;
  readonly pos: number;
}

export interface RootExpr {
  readonly pipeline: Pipeline;
  readonly metrics: MetricsStage | null;
  /**
   * Query hints of a trailing `with(name = value, …)` (Tempo's `most_recent`, `sample`, …):
   * advice to the engine and the store, which they may follow or ignore; results stay correct.
   */
  readonly hints: Readonly<Record<string, Static>>;
  /** The query as given, for messages. */
  readonly text: string;
}
