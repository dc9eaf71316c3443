/** The LogQL syntax tree. */
import type { Matcher } from '../../core/model/matcher.js';
import type { CompiledRegex } from '../../core/regex/re2.js';

/** A line filter operator (`|>`/`!>` are pattern filters). */
export type LineFilterOp = '|=' | '!=' | '|~' | '!~' | '|>' | '!>';

/** A Go-template subset for `line_format` / `label_format`: text and `{{ .name | fn }}` actions. */
export type TemplatePart = { readonly text: string } | { readonly field: string; readonly fns: readonly string[] };

/** A label filter expression. */
export type LabelFilter =
  | { readonly kind: 'and' | 'or'; readonly left: LabelFilter; readonly right: LabelFilter }
  | { readonly kind: 'match'; readonly matcher: Matcher }
  | {
      readonly kind: 'cmp';
      readonly name: string;
      readonly op: '==' | '!=' | '>' | '>=' | '<' | '<=';
      readonly value: number;
      readonly unit: 'number' | 'duration' | 'bytes';
    };

/** A compiled `pattern` expression: literals and captures (`<_>` captures nothing). */
export type PatternPart = { readonly lit: string } | { readonly name: string };

/** One pipeline stage. */
export type Stage =
  | {
      readonly kind: 'lineFilter';
      readonly op: LineFilterOp;
      readonly values: readonly string[];
      readonly res?: readonly CompiledRegex[];
      readonly patterns?: readonly (readonly PatternPart[])[];
    }
  | { readonly kind: 'json'; readonly params: readonly { readonly label: string; readonly path: readonly (string | number)[] }[] }
  | { readonly kind: 'logfmt'; readonly params: readonly { readonly label: string; readonly key: string }[] }
  | { readonly kind: 'regexp'; readonly re: CompiledRegex }
  | { readonly kind: 'pattern'; readonly parts: readonly PatternPart[] }
  | { readonly kind: 'unpack' }
  | { readonly kind: 'decolorize' }
  | { readonly kind: 'labelFilter'; readonly filter: LabelFilter }
  | { readonly kind: 'lineFormat'; readonly tmpl: readonly TemplatePart[] }
  | { readonly kind: 'labelFormat'; readonly items: readonly { readonly dst: string; readonly src?: string; readonly tmpl?: readonly TemplatePart[] }[] }
  | { readonly kind: 'drop' | 'keep'; readonly items: readonly { readonly name: string; readonly matcher?: Matcher }[] }
  | { readonly kind: 'unwrap'; readonly label: string; readonly conv: 'none' | 'duration' | 'bytes' };

/** A log query: a stream selector and a pipeline. */
export interface LogExpr {
  readonly kind: 'log';
  readonly matchers: readonly Matcher[];
  readonly stages: readonly Stage[];
  /** The query text of the selector and the stages before any `unwrap`: the lines it selects, as a log query. */
  readonly source?: string;
}

/** `by (…)` or `without (…)`. */
export interface Grouping {
  readonly without: boolean;
  readonly labels: readonly string[];
}

/** `group_left(…)` / `group_right(…)`: many-to-one matching, copying `include` from the "one" side. */
export interface GroupModifier {
  readonly side: 'left' | 'right';
  readonly include: readonly string[];
}

/** Range aggregation functions. */
export const RANGE_FUNCS = [
  'rate',
  'count_over_time',
  'bytes_rate',
  'bytes_over_time',
  'absent_over_time',
  'sum_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
  'rate_counter',
] as const;
/** One of {@link RANGE_FUNCS}. */
export type RangeFunc = (typeof RANGE_FUNCS)[number];

/** Vector aggregation operators. */
export const AGG_OPS = ['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk'] as const;
/** One of {@link AGG_OPS}. */
export type AggOp = (typeof AGG_OPS)[number];

/** Binary operators, loosest-binding first by precedence group. */
export type BinOp = 'or' | 'and' | 'unless' | '==' | '!=' | '>' | '>=' | '<' | '<=' | '+' | '-' | '*' | '/' | '%' | '^';

/** A metric query node. */
export type MetricExpr =
  | {
      readonly kind: 'range';
      readonly fn: RangeFunc;
      readonly rangeMs: number;
      readonly offsetMs: number;
      readonly log: LogExpr;
      readonly param?: number;
      readonly grouping?: Grouping;
    }
  | { readonly kind: 'agg'; readonly op: AggOp; readonly param?: number; readonly grouping?: Grouping; readonly expr: MetricExpr }
  | {
      readonly kind: 'bin';
      readonly op: BinOp;
      readonly bool: boolean;
      readonly on?: Grouping;
      readonly group?: GroupModifier;
      readonly lhs: MetricExpr;
      readonly rhs: MetricExpr;
    }
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'vector'; readonly value: number };

/** Any LogQL query. */
export type Expr = LogExpr | MetricExpr;
