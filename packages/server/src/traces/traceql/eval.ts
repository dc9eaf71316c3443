/**
 * Evaluation of a TraceQL pipeline over one trace. The input is one spanset holding every span; a
 * filter keeps the spans it matches; spanset operators combine the spansets their sides produce
 * from the same input; `by` splits a spanset, `coalesce` merges them, aggregates keep the spansets
 * whose value compares true; `select` names attributes to return. Spansets hold span indices.
 *
 * Structural operators, after Tempo's documentation: `A > B` is the spans of B whose parent is in A,
 * `A >> B` those with an ancestor in A, `A < B` those that are the parent of a span of A, `A << B`
 * those that are an ancestor of one, `A ~ B` those with a sibling (same parent, another span) in A.
 * `!>` and the other negations keep the spans of B for which the relation does not hold; `&>` and
 * the other unions return the spans of both sides that take part in the relation.
 */
import type { AggregateFn, FieldRef, Pipeline, PipelineElement, RootExpr, SpansetExpr, SpansetOp } from './ast.js';
import { compare, compileField, type FieldFn, valueKey, type Val } from './fields.js';
import type { TraceView } from './trace_view.js';

/** A selected or grouping field with its compiled reader. */
export interface NamedField {
  readonly ref: FieldRef;
  readonly fn: FieldFn;
}

export interface Spanset {
  /** Indices into the trace's spans, ascending. */
  readonly spans: number[];
  /** `by()` groups this spanset belongs to: key as written (`by(resource.service.name)`) and value. */
  readonly by: readonly { readonly key: string; readonly value: Val }[];
  /** Fields `select()` asked for. */
  readonly select: readonly NamedField[];
  /** The value of the last aggregate compared, as Tempo reports it. */
  readonly scalar?: number;
}

type Stage = (input: Spanset[], tv: TraceView) => Spanset[];

/** Compiles the pipeline of a parsed query; throws the typed parse error on a bad regex. */
export function compilePipeline(root: RootExpr): (tv: TraceView) => Spanset[] {
  const run = pipelineStage(root.pipeline, root.text);
  return (tv) => {
    const all: number[] = new Array<number>(tv.spans.length);
    for (let i = 0; i < all.length; i++) all[i] = i;
    return run([{ spans: all, by: [], select: [] }], tv);
  };
}

function pipelineStage(p: Pipeline, q: string): Stage {
  const stages = p.elements.map((e) => elementStage(e, q));
  return (input, tv) => {
    let cur = input;
    for (const s of stages) {
      if (cur.length === 0) break;
      cur = s(cur, tv);
    }
    return cur;
  };
}

function elementStage(e: PipelineElement, q: string): Stage {
  switch (e.t) {
    case 'filter':
    case 'op':
    case 'group':
      return spansetStage(e, q);
    case 'scalar': {
      const field = e.field === null ? null : compileField(e.field, q);
      const target = e.value.type === 'nil' || e.value.type === 'status' || e.value.type === 'kind' ? NaN : (e.value.v as number);
      const { fn, op } = e;
      return (input, tv) => {
        const out: Spanset[] = [];
        for (const ss of input) {
          const v = aggregate(fn, field, ss.spans, tv);
          if (compare(op, v, target)) out.push({ ...ss, scalar: v });
        }
        return out;
      };
    }
    case 'by': {
      const field = compileField(e.field, q);
      const key = `by(${e.text})`;
      return (input, tv) => {
        const out: Spanset[] = [];
        for (const ss of input) {
          const groups = new Map<string, { value: Val; spans: number[] }>();
          for (const i of ss.spans) {
            const v = field(i, tv);
            const k = valueKey(v);
            let g = groups.get(k);
            if (g === undefined) groups.set(k, (g = { value: v, spans: [] }));
            g.spans.push(i);
          }
          for (const g of groups.values()) out.push({ spans: g.spans, by: [...ss.by, { key, value: g.value }], select: ss.select });
        }
        return out;
      };
    }
    case 'select': {
      const fields = e.fields.map((ref) => ({ ref, fn: compileField(ref, q) }));
      return (input) => input.map((ss) => ({ ...ss, select: [...ss.select, ...fields] }));
    }
    case 'coalesce':
      return (input) => {
        const spans = unionOf(input.map((s) => s.spans));
        return spans.length === 0 ? [] : [{ spans, by: [], select: input.flatMap((s) => s.select) }];
      };
  }
}

function aggregate(fn: AggregateFn, field: FieldFn | null, spans: number[], tv: TraceView): number {
  if (fn === 'count') return spans.length;
  let n = 0;
  let acc = fn === 'min' ? Infinity : fn === 'max' ? -Infinity : 0;
  for (const i of spans) {
    const v = field!(i, tv);
    if (typeof v !== 'number' || Number.isNaN(v)) continue;
    n++;
    if (fn === 'min') acc = Math.min(acc, v);
    else if (fn === 'max') acc = Math.max(acc, v);
    else acc += v;
  }
  if (n === 0) return NaN;
  return fn === 'avg' ? acc / n : acc;
}

function spansetStage(e: SpansetExpr, q: string): Stage {
  switch (e.t) {
    case 'filter': {
      if (e.expr === null) return (input) => input;
      const f = compileField(e.expr, q);
      return (input, tv) => {
        const out: Spanset[] = [];
        for (const ss of input) {
          const kept: number[] = [];
          for (const i of ss.spans) if (f(i, tv) === true) kept.push(i);
          if (kept.length > 0) out.push({ ...ss, spans: kept });
        }
        return out;
      };
    }
    case 'group':
      return pipelineStage(e.pipeline, q);
    case 'op': {
      const l = spansetStage(e.l, q);
      const r = spansetStage(e.r, q);
      const op = e.op;
      return (input, tv) => {
        const out: Spanset[] = [];
        for (const ss of input) {
          const ls = l([ss], tv);
          const rs = op === '&&' && ls.length === 0 ? [] : r([ss], tv);
          const spans = combine(op, unionOf(ls.map((s) => s.spans)), unionOf(rs.map((s) => s.spans)), tv);
          if (spans.length > 0) out.push({ spans, by: ss.by, select: [...ss.select, ...ls.flatMap((s) => s.select), ...rs.flatMap((s) => s.select)] });
        }
        return out;
      };
    }
  }
}

/** Sorted, de-duplicated union of index lists. */
function unionOf(lists: number[][]): number[] {
  if (lists.length === 1) return lists[0]!;
  const set = new Set<number>();
  for (const l of lists) for (const i of l) set.add(i);
  return [...set].sort((a, b) => a - b);
}

function marks(n: number, idx: number[]): Uint8Array {
  const m = new Uint8Array(n);
  for (const i of idx) m[i] = 1;
  return m;
}

/** Marks every span that is the parent of a marked one (`ancestors`: every ancestor). */
function markUp(p: Int32Array, from: number[], ancestors: boolean): Uint8Array {
  const m = new Uint8Array(p.length);
  for (const i of from) {
    let j = p[i]!;
    // The step bound stops a corrupt trace whose parent links form a cycle.
    for (let steps = 0; j >= 0 && steps < p.length; steps++) {
      if (m[j] === 1 && ancestors) break;
      m[j] = 1;
      if (!ancestors) break;
      j = p[j]!;
    }
  }
  return m;
}

/** Marks every span whose parent (`descendants`: any ancestor) is marked in `set`. */
function markDown(p: Int32Array, set: Uint8Array, descendants: boolean): Uint8Array {
  const n = p.length;
  const m = new Uint8Array(n);
  if (!descendants) {
    for (let i = 0; i < n; i++) if (p[i]! >= 0 && set[p[i]!] === 1) m[i] = 1;
    return m;
  }
  // 0 unknown, 1 has a marked ancestor, 2 has none; resolved along each path once.
  const state = new Uint8Array(n);
  const path: number[] = [];
  for (let i = 0; i < n; i++) {
    if (state[i] !== 0) continue;
    path.length = 0;
    let j = i;
    let result = 2;
    while (j >= 0 && state[j] === 0 && path.length <= n) {
      path.push(j);
      const parent = p[j]!;
      if (parent >= 0 && set[parent] === 1) {
        result = 1;
        break;
      }
      j = parent;
    }
    if (result === 2 && j >= 0 && state[j] !== 0) result = state[j]!;
    for (const k of path) state[k] = result;
  }
  for (let i = 0; i < n; i++) if (state[i] === 1) m[i] = 1;
  return m;
}

/** Marks the spans that have a sibling marked in `set`. */
function markSiblings(p: Int32Array, set: Uint8Array): Uint8Array {
  const n = p.length;
  const perParent = new Int32Array(n);
  for (let i = 0; i < n; i++) if (set[i] === 1 && p[i]! >= 0) perParent[p[i]!]!++;
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const parent = p[i]!;
    if (parent >= 0 && perParent[parent]! - (set[i] === 1 ? 1 : 0) > 0) m[i] = 1;
  }
  return m;
}

/** `rel(x)` holds for the spans of the right side related to the left side by the operator. */
function relation(base: string, p: Int32Array, l: number[], lm: Uint8Array): Uint8Array {
  switch (base) {
    case '>':
      return markDown(p, lm, false);
    case '>>':
      return markDown(p, lm, true);
    case '<':
      return markUp(p, l, false);
    case '<<':
      return markUp(p, l, true);
    default:
      return markSiblings(p, lm);
  }
}

const CONVERSE: Record<string, string> = { '>': '<', '>>': '<<', '<': '>', '<<': '>>', '~': '~' };

function combine(op: SpansetOp, l: number[], r: number[], tv: TraceView): number[] {
  if (op === '&&') return l.length > 0 && r.length > 0 ? unionOf([l, r]) : [];
  if (op === '||') return unionOf([l, r].filter((x) => x.length > 0));
  const n = tv.spans.length;
  const p = tv.parents();
  const negated = op.startsWith('!');
  const union = op.startsWith('&');
  const base = negated || union ? op.slice(1) : op;
  if (!negated && (l.length === 0 || r.length === 0)) return [];
  const lm = marks(n, l);
  const rel = relation(base, p, l, lm);
  if (!union) return r.filter((i) => (rel[i] === 1) !== negated);
  // Union: the right spans related to the left, and the left spans related (conversely) to those.
  const right = r.filter((i) => rel[i] === 1);
  if (right.length === 0) return [];
  const conv = relation(CONVERSE[base]!, p, right, marks(n, right));
  const left = l.filter((i) => conv[i] === 1);
  return unionOf([left, right]);
}
