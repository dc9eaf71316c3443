/**
 * Named Go types for template values. Go templates see methods (`.SortedPairs`, `.Format`) and
 * Stringers (`time.Time` prints as `2006-01-02 15:04:05 +0000 UTC`) that plain JavaScript values do
 * not have, so a value may carry its Go type under a symbol: a Map, an array or a struct object. The
 * symbol is not enumerable, so field listing, printing of struct fields and JSON never see it.
 *
 * Opaque types (time.Time, time.Duration, template.HTML) are empty struct objects whose state sits
 * under a second symbol; only their type's methods read it.
 */
import type { TStruct, TValue } from './gofmt.js';

/** A method callable from a template: `{{ .Labels.Remove (stringSlice "a") }}`. */
export interface GoMethod {
  readonly minArgs: number;
  /** Infinity for variadic methods. */
  readonly maxArgs: number;
  /** Throwing an Error reports `error calling NAME: message`, as a Go method returning an error does. */
  readonly call: (self: TValue, args: TValue[]) => TValue;
}

/** What a named Go type adds to a value. */
export interface GoType {
  /** The type as `%T` and error messages print it: `template.KV`, `time.Time`. */
  readonly name: string;
  /** A `String()` method: fmt uses it for `%v` and `%s`, so templates print it. */
  readonly string?: (self: TValue) => string;
  /** The underlying basic value of a named basic type (template.HTML is a string, Duration an int64) for comparisons, truth and numeric verbs. */
  readonly basic?: (self: TValue) => string | bigint;
  readonly methods?: ReadonlyMap<string, GoMethod>;
}

const GO_TYPE = Symbol('go.type');
const GO_STATE = Symbol('go.state');

interface Tagged {
  [GO_TYPE]?: GoType;
  [GO_STATE]?: unknown;
}

/** The Go type a value carries, if any. */
export function goTypeOf(v: TValue): GoType | undefined {
  return v !== null && typeof v === 'object' ? (v as Tagged)[GO_TYPE] : undefined;
}

/** Tags a Map, array or struct object with a Go type and returns it. */
export function withGoType<T extends Map<string, TValue> | TValue[] | TStruct>(v: T, type: GoType): T {
  Object.defineProperty(v, GO_TYPE, { value: type, enumerable: false });
  return v;
}

/** A value of an opaque type: no fields, `state` visible only to {@link opaqueState}. */
export function opaque(type: GoType, state: unknown): TStruct {
  const o = {};
  Object.defineProperty(o, GO_TYPE, { value: type, enumerable: false });
  Object.defineProperty(o, GO_STATE, { value: state, enumerable: false });
  return o;
}

/** The state of an opaque value of `type`, or undefined when `v` is not one. */
export function opaqueState<S>(v: TValue, type: GoType): S | undefined {
  return goTypeOf(v) === type ? ((v as Tagged)[GO_STATE] as S) : undefined;
}

/** A value's underlying basic value: itself unless it is of a named basic type. */
export function basicOf(v: TValue): TValue {
  const t = goTypeOf(v);
  return t?.basic ? t.basic(v) : v;
}

/** Builds a method table. */
export function methods(entries: Record<string, GoMethod>): ReadonlyMap<string, GoMethod> {
  return new Map(Object.entries(entries));
}

/** A method without arguments. */
export function getter(call: (self: TValue) => TValue): GoMethod {
  return { minArgs: 0, maxArgs: 0, call: (self) => call(self) };
}
