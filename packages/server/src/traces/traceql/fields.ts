/**
 * Field expressions compiled to closures over (span index, trace). Values are plain JavaScript:
 * strings, numbers (durations in nanoseconds), booleans, `null` for a missing attribute or `nil`,
 * arrays for array attributes, and interned {@link Enum}s for status and kind, so `status = error`
 * never equals the string "error". A comparison of mismatched types is false, as in Tempo; `= nil`
 * is true of a missing attribute and `!= nil` of a present one; an array matches when one of its
 * elements does (and `!=`, `!~` when none is equal or matching).
 */
import { compileRegex, type CompiledRegex, RegexSyntaxError } from '../../core/regex/re2.js';
import type { AttributeValue, Span, SpanKind, StatusCode } from '../storage/types.js';
import type { AttrScope, CmpOp, FieldExpr, Static } from './ast.js';
import { parseErrorAt } from './lexer.js';
import { spanDurationNanos, type TraceView } from './trace_view.js';

/** A status or kind value; one instance per value, so equality is identity. */
export class Enum {
  private constructor(
    readonly kind: 'status' | 'kind',
    readonly v: string,
  ) {}
  // Built once: the status and kind intrinsics look these up for every span they read.
  private static readonly statuses = new Map<string, Enum>((['unset', 'ok', 'error'] as const).map((v) => [v, new Enum('status', v)]));
  private static readonly kinds = new Map<string, Enum>(
    (['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const).map((v) => [v, new Enum('kind', v)]),
  );
  static of(kind: 'status' | 'kind', v: StatusCode | SpanKind): Enum {
    const table = kind === 'status' ? Enum.statuses : Enum.kinds;
    let e = table.get(v);
    // A value outside the model (a decoder's future enum) still gets one shared instance.
    if (e === undefined) table.set(v, (e = new Enum(kind, v)));
    return e;
  }
}

/** The NIL literal, distinct from a missing value only in comparisons. */
export const NIL: unique symbol = Symbol('nil');

export type Val = string | number | boolean | null | Enum | typeof NIL | readonly AttributeValue[] | { readonly [k: string]: AttributeValue };
export type FieldFn = (i: number, tv: TraceView) => Val;

function staticVal(v: Static): Val {
  switch (v.type) {
    case 'nil':
      return NIL;
    case 'status':
    case 'kind':
      return Enum.of(v.type, v.v);
    default:
      return v.v;
  }
}

/** The values of one attribute over a span's events or links: null when none has it. */
function perItem(items: readonly { attributes: Record<string, AttributeValue> }[], name: string): Val {
  let out: AttributeValue[] | null = null;
  for (const it of items) {
    const v = it.attributes[name];
    if (v !== undefined) (out ??= []).push(v);
  }
  return out;
}

function attrValue(s: Span, scope: AttrScope, name: string): Val {
  if (scope === 'event') return perItem(s.events, name);
  if (scope === 'link') return perItem(s.links, name);
  if (scope !== 'resource') {
    const v = s.attributes[name];
    if (v !== undefined) return v;
    if (scope === 'span') return null;
  }
  return s.resource[name] ?? null;
}

/** Compiles a field expression; `query` is the text, for the position of a bad regex. */
export function compileField(e: FieldExpr, query: string): FieldFn {
  switch (e.t) {
    case 'static': {
      const v = staticVal(e.v);
      return () => v;
    }
    case 'attr': {
      const { scope, name } = e;
      return (i, tv) => attrValue(tv.spans[i]!, scope, name);
    }
    case 'intrinsic':
      return intrinsicFn(e.which);
    case 'unary': {
      const f = compileField(e.e, query);
      if (e.op === '!') {
        return (i, tv) => {
          const v = f(i, tv);
          return typeof v === 'boolean' ? !v : null;
        };
      }
      return (i, tv) => {
        const v = f(i, tv);
        return typeof v === 'number' ? -v : null;
      };
    }
    case 'binary': {
      const l = compileField(e.l, query);
      if ((e.op === '=~' || e.op === '!~') && e.r.t === 'static' && e.r.v.type === 'string') {
        let re: CompiledRegex;
        try {
          re = compileRegex(e.r.v.v, 'full');
        } catch (err) {
          if (err instanceof RegexSyntaxError) throw parseErrorAt(query, e.r.pos, `invalid regex: ${err.message}`);
          throw err;
        }
        const negate = e.op === '!~';
        const test = memoized(re);
        return (i, tv) => regexMatch(l(i, tv), test, negate);
      }
      const r = compileField(e.r, query);
      switch (e.op) {
        case '&&':
          return (i, tv) => l(i, tv) === true && r(i, tv) === true;
        case '||':
          return (i, tv) => l(i, tv) === true || r(i, tv) === true;
        case '+':
        case '-':
        case '*':
        case '/':
        case '%':
        case '^': {
          const op = e.op;
          return (i, tv) => arith(op, l(i, tv), r(i, tv));
        }
        default: {
          const op = e.op;
          return (i, tv) => compare(op, l(i, tv), r(i, tv));
        }
      }
    }
  }
}

function intrinsicFn(which: string): FieldFn {
  switch (which) {
    case 'duration':
      return (i, tv) => spanDurationNanos(tv.spans[i]!);
    case 'name':
      return (i, tv) => tv.spans[i]!.name;
    case 'status':
      return (i, tv) => Enum.of('status', tv.spans[i]!.status.code);
    case 'statusMessage':
      return (i, tv) => tv.spans[i]!.status.message;
    case 'kind':
      return (i, tv) => Enum.of('kind', tv.spans[i]!.kind);
    case 'rootName':
      return (_i, tv) => tv.root()?.name ?? null;
    case 'rootServiceName':
      return (_i, tv) => {
        const v = tv.root()?.resource['service.name'];
        return v === undefined ? null : v;
      };
    case 'traceDuration':
      return (_i, tv) => tv.durationNanos();
    case 'spanID':
      return (i, tv) => tv.spans[i]!.spanId;
    case 'parentID':
      return (i, tv) => tv.spans[i]!.parentSpanId;
    case 'traceID':
      return (i, tv) => tv.spans[i]!.traceId;
    case 'instrumentationName':
      return (i, tv) => tv.spans[i]!.scope.name;
    case 'instrumentationVersion':
      return (i, tv) => tv.spans[i]!.scope.version;
    case 'nestedSetLeft':
      return (i, tv) => tv.nestedSet().left[i]!;
    case 'nestedSetRight':
      return (i, tv) => tv.nestedSet().right[i]!;
    case 'nestedSetParent':
      return (i, tv) => tv.nestedSet().parent[i]!;
    case 'eventName':
      return (i, tv) => listOrNull(tv.spans[i]!.events.map((e) => e.name));
    case 'eventTimeSinceStart':
      return (i, tv) => {
        const s = tv.spans[i]!;
        return s.events.length === 0 ? null : s.events.map((e) => Number(e.timeUnixNano - s.startTimeUnixNano));
      };
    case 'linkTraceID':
      return (i, tv) => listOrNull(tv.spans[i]!.links.map((l) => l.traceId));
    case 'linkSpanID':
      return (i, tv) => listOrNull(tv.spans[i]!.links.map((l) => l.spanId));
    default:
      return (i, tv) => tv.childCount(i);
  }
}

const listOrNull = (xs: string[]): Val => (xs.length === 0 ? null : xs);

function arith(op: string, a: Val, b: Val): Val {
  if (typeof a !== 'number' || typeof b !== 'number') return null;
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
    default:
      return Math.pow(a, b);
  }
}

/**
 * The regex's test with its answers remembered: span names and attribute values repeat across
 * spans, and a call into RE2 costs far more than a map lookup. The memo is bounded and per query.
 */
function memoized(re: CompiledRegex): (s: string) => boolean {
  const memo = new Map<string, boolean>();
  return (s) => {
    let hit = memo.get(s);
    if (hit === undefined) {
      hit = re.test(s);
      if (memo.size >= 4096) memo.clear();
      if (s.length <= 256) memo.set(s, hit);
    }
    return hit;
  };
}

function regexMatch(v: Val, test: (s: string) => boolean, negate: boolean): boolean {
  if (typeof v === 'string') return test(v) !== negate;
  if (Array.isArray(v)) {
    const strings = v.filter((x): x is string => typeof x === 'string');
    if (strings.length === 0) return false;
    const any = strings.some((x) => test(x));
    return negate ? !any : any;
  }
  return false;
}

/** `a op b` with TraceQL's typing: mismatched or missing operands compare false. */
export function compare(op: CmpOp | '=' | '!=', a: Val, b: Val): boolean {
  if (a === NIL || b === NIL) {
    const other = a === NIL ? b : a;
    const missing = other === null || other === NIL;
    if (op === '=') return missing;
    if (op === '!=') return !missing;
    return false;
  }
  if (a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (op === '!=') return a.length > 0 && a.every((x) => !scalarCompare('=', x as Val, b));
    return a.some((x) => scalarCompare(op, x as Val, b));
  }
  return scalarCompare(op, a, b);
}

function scalarCompare(op: string, a: Val, b: Val): boolean {
  const ta = typeof a;
  if (ta !== typeof b || a === null || b === null) return false;
  if (ta === 'object') {
    if (!(a instanceof Enum) || !(b instanceof Enum) || a.kind !== b.kind) return false;
    if (op === '=') return a === b;
    if (op === '!=') return a !== b;
    return false;
  }
  if (ta === 'boolean') {
    if (op === '=') return a === b;
    if (op === '!=') return a !== b;
    return false;
  }
  if (ta === 'string' && (op === '=~' || op === '!~')) {
    return compileRegex(b as string, 'full').test(a as string) !== (op === '!~');
  }
  if (ta !== 'number' && ta !== 'string') return false;
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case '=':
      return x === y;
    case '!=':
      return x !== y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    default:
      return false;
  }
}

/** The value as Tempo's JSON carries it in search results (`{ stringValue: … }` and so on). */
export function anyValue(v: Val): Record<string, unknown> {
  if (v instanceof Enum) return { stringValue: v.v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map((x) => anyValue(x as Val)) } };
  if (v === null || v === NIL) return {};
  return { kvlistValue: { values: Object.entries(v).map(([key, x]) => ({ key, value: anyValue(x as Val) })) } };
}

/** A string form for grouping keys and Prometheus-style labels. */
export function valueKey(v: Val): string {
  if (v instanceof Enum) return `e:${v.v}`;
  if (v === null || v === NIL) return 'nil';
  return `${typeof v}:${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
}

/** The value printed as a label value. */
export function valueText(v: Val): string {
  if (v instanceof Enum) return v.v;
  if (v === null || v === NIL) return 'nil';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
