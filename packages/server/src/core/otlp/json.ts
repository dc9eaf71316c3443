/**
 * Typed reads of OTLP/JSON fields (proto3 JSON: int64 and fixed64 as decimal strings or numbers,
 * doubles as numbers or "NaN"/"Infinity"/"-Infinity", absent fields at their defaults), shared by
 * every signal's JSON decoder. A field of the wrong type is the error the signal's `invalid` makes
 * (its own class, a 400), naming the field's path and showing the value.
 */

const MAX_U64 = (1n << 64n) - 1n;
const UINT = /^\d{1,20}$/;
const INT = /^-?\d{1,20}$/;

/** Reads fields of a parsed OTLP/JSON body; `invalid` makes the error for a field of the wrong type. */
export class OtlpJsonReader {
  constructor(private readonly invalid: (detail: string) => Error) {}

  /** The error for the field at `path`, which should be `want`. */
  bad(path: string, want: string, got: unknown): Error {
    let shown: string;
    try {
      shown = JSON.stringify(got)?.slice(0, 60) ?? String(got);
    } catch {
      shown = typeof got;
    }
    return this.invalid(`${path} must be ${want}, got ${shown}`);
  }

  /** An object, or undefined when absent. */
  obj<T extends object>(v: T | undefined | null, path: string): T | undefined;
  obj(v: unknown, path: string): Record<string, unknown> | undefined;
  obj(v: unknown, path: string): object | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) throw this.bad(path, 'an object', v);
    return v;
  }

  /** An array, empty when absent. */
  list<T>(v: T[] | undefined | null, path: string): T[];
  list(v: unknown, path: string): unknown[];
  list(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.bad(path, 'an array', v);
    return v;
  }

  /** A string, '' when absent. */
  str(v: unknown, path: string): string {
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw this.bad(path, 'a string', v);
    return v;
  }

  /** A double: a number, or "NaN", "Infinity", "-Infinity" (or a decimal string); 0 when absent. */
  double(v: unknown, path: string): number {
    if (v === undefined || v === null) return 0;
    if (typeof v === 'number') return v;
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
    throw this.bad(path, 'a number', v);
  }

  /** An int64 or uint64 (a decimal string or an integer) as a number (exact below 2^53: counts); 0 when absent. */
  integer(v: unknown, path: string): number {
    if (v === undefined || v === null || v === '') return 0;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && INT.test(v)) return Number(v);
    throw this.bad(path, 'an integer (a decimal string)', v);
  }

  /** A fixed64 of nanoseconds since the epoch, exactly; 0n when absent. */
  nanos(v: unknown, path: string): bigint {
    if (v === undefined || v === null || v === '') return 0n;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    if (typeof v === 'string' && UINT.test(v)) {
      const n = BigInt(v);
      if (n <= MAX_U64) return n;
    }
    throw this.bad(path, 'nanoseconds since the epoch as a decimal string', v);
  }

  /** A fixed64 of nanoseconds since the epoch in whole milliseconds (floor); 0 when absent. */
  millis(v: unknown, path: string): number {
    // The common case without a BigInt: a number of nanoseconds exact in a double.
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return Math.floor(v / 1e6);
    return Number(this.nanos(v, path) / 1_000_000n);
  }

  /** An enum: its integer (unknown ones read as the default, like proto3), or its name. */
  enumOf<T>(v: unknown, path: string, values: readonly T[], names: Record<string, T>): T {
    if (v === undefined || v === null) return values[0]!;
    if (typeof v === 'number' && Number.isInteger(v)) return values[v] ?? values[0]!;
    if (typeof v === 'string' && Object.hasOwn(names, v)) return names[v]!;
    throw this.bad(path, `an enum integer or one of ${Object.keys(names).join(', ')}`, v);
  }
}
