/**
 * What must hold of any trace a query matches, derived from its syntax tree, so a store can skip
 * blocks (by bloom, min/max or time range) before it decodes a span. Hints are necessary
 * conditions only: a block that fails one holds no match; a block that passes may still hold none.
 *
 * A filter `{ a && b && c }` needs one span satisfying every comparison of the top-level `&&` chain
 * between a field and a literal. `A && B` and the structural `A > B` (and their unions) need both
 * sides; the negations `A !> B` only the right; `A || B` needs neither for sure, so gives nothing.
 */
import type { CmpOp, FieldExpr, Pipeline, PipelineElement, RootExpr, SpansetExpr, Static } from './ast.js';
import { parseTraceQL } from './parser.js';

export interface Condition {
  /**
   * `span`, `resource`, `any` (an unscoped `.name`: span or resource), `event` or `link` (the
   * attribute of one of the span's events or links), or `intrinsic`.
   */
  readonly scope: 'span' | 'resource' | 'any' | 'event' | 'link' | 'intrinsic';
  /** The attribute's name, or the intrinsic's (`duration`, `name`, `status`, `rootServiceName`…). */
  readonly name: string;
  readonly op: CmpOp;
  /** Strings, numbers (durations in nanoseconds), booleans; status and kind as their names. */
  readonly value: string | number | boolean;
}

export interface TraceqlHints {
  /** For each group, a matching trace has one span satisfying all of the group's conditions. */
  readonly spans: readonly (readonly Condition[])[];
  /** The `=` conditions of every group, flattened: each value must occur in a matching trace. */
  readonly equals: readonly Condition[];
  /** Some span of a matching trace lasts at least this long (nanoseconds). */
  readonly minSpanDurationNanos?: number;
  /** A matching trace lasts at least / at most this long (nanoseconds), from `traceDuration`. */
  readonly minTraceDurationNanos?: number;
  readonly maxTraceDurationNanos?: number;
  /** The search's time range, passed through, so one object carries everything a store checks. */
  readonly startNanos?: bigint;
  readonly endNanos?: bigint;
  /** True when the query constrains nothing (`{}`): every trace is a candidate. */
  readonly matchesAll: boolean;
  /** `with(most_recent=true)`: the caller wants the newest matches, so candidates should come newest first. */
  readonly mostRecent: boolean;
}

const FLIP: Record<CmpOp, CmpOp> = { '=': '=', '!=': '!=', '>': '<', '>=': '<=', '<': '>', '<=': '>=', '=~': '=~', '!~': '!~' };
const CMP = new Set(['=', '!=', '>', '>=', '<', '<=', '=~', '!~']);

function literal(v: Static): string | number | boolean | undefined {
  switch (v.type) {
    case 'nil':
      return undefined;
    case 'status':
    case 'kind':
      return v.v;
    default:
      return v.v;
  }
}

/** The comparisons of a filter's top-level `&&` chain that pin a field to a literal. */
function conjuncts(e: FieldExpr | null, out: Condition[]): void {
  if (e === null) return;
  if (e.t !== 'binary') return;
  if (e.op === '&&') {
    conjuncts(e.l, out);
    conjuncts(e.r, out);
    return;
  }
  if (!CMP.has(e.op)) return;
  let field = e.l;
  let lit = e.r;
  let op = e.op as CmpOp;
  if (field.t === 'static') {
    [field, lit] = [lit, field];
    op = FLIP[op];
  }
  if (lit.t !== 'static' || (field.t !== 'attr' && field.t !== 'intrinsic')) return;
  const value = literal(lit.v);
  if (value === undefined) return;
  if (field.t === 'attr') out.push({ scope: field.scope, name: field.name, op, value });
  else out.push({ scope: 'intrinsic', name: field.which, op, value });
}

function ofSpanset(e: SpansetExpr, groups: Condition[][]): void {
  switch (e.t) {
    case 'filter': {
      const g: Condition[] = [];
      conjuncts(e.expr, g);
      if (g.length > 0) groups.push(g);
      return;
    }
    case 'group':
      ofPipeline(e.pipeline, groups);
      return;
    case 'op':
      if (e.op === '||') return;
      if (!e.op.startsWith('!')) ofSpanset(e.l, groups);
      ofSpanset(e.r, groups);
  }
}

function ofPipeline(p: Pipeline, groups: Condition[][]): void {
  for (const el of p.elements as PipelineElement[]) {
    if (el.t === 'filter' || el.t === 'op' || el.t === 'group') ofSpanset(el, groups);
  }
}

/** The hints of a query (text or parsed), with the search's time range if the caller has one. */
export function hintsOf(query: string | RootExpr, range: { startNanos?: bigint; endNanos?: bigint } = {}): TraceqlHints {
  const root = typeof query === 'string' ? parseTraceQL(query) : query;
  const groups: Condition[][] = [];
  ofPipeline(root.pipeline, groups);
  const flat = groups.flat();
  const equals = flat.filter((c) => c.op === '=');
  let minSpan: number | undefined;
  let minTrace: number | undefined;
  let maxTrace: number | undefined;
  for (const c of flat) {
    if (c.scope !== 'intrinsic' || typeof c.value !== 'number') continue;
    const atLeast = c.op === '>' || c.op === '>=' || c.op === '=';
    const atMost = c.op === '<' || c.op === '<=' || c.op === '=';
    if (c.name === 'duration' && atLeast) minSpan = Math.max(minSpan ?? 0, c.value);
    if (c.name === 'traceDuration' && atLeast) minTrace = Math.max(minTrace ?? 0, c.value);
    if (c.name === 'traceDuration' && atMost) maxTrace = Math.min(maxTrace ?? Infinity, c.value);
  }
  return {
    spans: groups,
    equals,
    ...(minSpan !== undefined ? { minSpanDurationNanos: minSpan } : {}),
    ...(minTrace !== undefined ? { minTraceDurationNanos: minTrace } : {}),
    ...(maxTrace !== undefined ? { maxTraceDurationNanos: maxTrace } : {}),
    ...(range.startNanos !== undefined ? { startNanos: range.startNanos } : {}),
    ...(range.endNanos !== undefined ? { endNanos: range.endNanos } : {}),
    matchesAll: groups.length === 0 && !hasFilter(root.pipeline),
    mostRecent: root.hints['most_recent']?.type === 'bool' && root.hints['most_recent'].v,
  };
}

/** True when some filter of the pipeline has an expression (so not everything matches). */
function hasFilter(p: Pipeline): boolean {
  const sp = (e: PipelineElement): boolean => {
    if (e.t === 'filter') return e.expr !== null;
    if (e.t === 'op') return sp(e.l) || sp(e.r);
    if (e.t === 'group') return hasFilter(e.pipeline);
    return e.t === 'scalar';
  };
  return p.elements.some(sp);
}
