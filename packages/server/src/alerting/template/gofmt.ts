/**
 * Go's fmt formatting for template values, so `{{ $value }}` and `printf` print exactly what
 * Prometheus prints (`1.5e+06`, `%!d(float64=1.5)`, `map[a:b]`).
 *
 * Go types are mapped to JavaScript values: float64 → number, int → bigint, string → string,
 * bool → boolean, nil → null, map → Map (printed with sorted keys), slice → array, struct →
 * plain object (printed as `{field …}`).
 */

import { goTypeOf } from './gotype.js';

/** A value inside the template engine. */
export type TValue = string | number | bigint | boolean | null | undefined | TValue[] | Map<string, TValue> | TStruct;

/** A Go struct: its fields in declaration order. */
export interface TStruct {
  readonly [field: string]: TValue;
}

/** The Go type name of a value, as fmt prints it in `%!verb(type=value)`. */
export function goTypeName(v: TValue): string {
  if (v === null || v === undefined) return '<nil>';
  const named = goTypeOf(v);
  if (named) return named.name;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (v instanceof Map) return 'map[string]string';
  return 'struct';
}

/** Splits a finite non-zero number into shortest decimal digits and the decimal exponent. */
function shortestDigits(v: number): { digits: string; exp: number } {
  const [mant, e] = Math.abs(v).toExponential().split('e') as [string, string];
  return { digits: mant.replace('.', ''), exp: Number(e) };
}

function expSuffix(exp: number): string {
  const a = Math.abs(exp);
  return `e${exp < 0 ? '-' : '+'}${a < 10 ? '0' : ''}${a}`;
}

/** The exact decimal expansion of a finite positive double: digits and the decimal point position. */
function exactDecimal(v: number): { digits: string; point: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, v);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const bexp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e: number;
  if (bexp === 0) e = -1074;
  else {
    mant |= 1n << 52n;
    e = bexp - 1075;
  }
  if (e >= 0) {
    const d = (mant << BigInt(e)).toString();
    return { digits: d, point: d.length };
  }
  const d = (mant * 5n ** BigInt(-e)).toString();
  return { digits: d, point: d.length + e };
}

/**
 * Rounds a finite non-zero |v| to `n` significant digits (n >= 1) the way Go does: on the exact
 * decimal value, halfway cases to even. Returns the digits (length n) and the decimal exponent.
 */
function roundSig(v: number, n: number): { digits: string; exp: number } {
  // JavaScript rounds correctly too, half up; only near a halfway case can the two differ, so the
  // exact (BigInt) path is taken only there.
  const a = Math.abs(v);
  if (n <= 98) {
    const [wide, wexp] = a.toExponential(n + 1).split('e') as [string, string];
    const tail = wide.replace('.', '').slice(n);
    if (tail !== '50' && tail !== '49' && tail !== '51') {
      const [m, e] = a.toExponential(n - 1).split('e') as [string, string];
      void wexp;
      return { digits: m.replace('.', ''), exp: Number(e) };
    }
  }
  const { digits, point } = exactDecimal(a);
  const lead = digits.search(/[1-9]/);
  const ds = digits.slice(lead);
  let pt = point - lead;
  if (ds.length <= n) return { digits: ds.padEnd(n, '0'), exp: pt - 1 };
  let head = BigInt(ds.slice(0, n));
  const rest = ds.slice(n);
  const up = rest[0]! > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) || head % 2n === 1n));
  if (up) head += 1n;
  let hs = head.toString();
  if (hs.length > n) {
    hs = hs.slice(0, n);
    pt++;
  }
  return { digits: hs, exp: pt - 1 };
}

/** strconv.FormatFloat(v, 'e', prec, 64); prec -1 means shortest. */
export function formatE(v: number, prec: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  if (v === 0) return (Object.is(v, -0) ? '-' : '') + (prec > 0 ? '0.' + '0'.repeat(prec) : '0') + 'e+00';
  let mant: string;
  let exp: number;
  if (prec < 0) {
    const d = shortestDigits(v);
    mant = d.digits.length > 1 ? `${d.digits[0]}.${d.digits.slice(1)}` : d.digits;
    exp = d.exp;
  } else {
    const r = roundSig(v, prec + 1);
    mant = prec > 0 ? `${r.digits[0]}.${r.digits.slice(1)}` : r.digits;
    exp = r.exp;
  }
  return (v < 0 ? '-' : '') + mant + expSuffix(exp);
}

/** strconv.FormatFloat(v, 'f', prec, 64); prec -1 means shortest. */
export function formatF(v: number, prec: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  if (prec < 0) {
    if (v === 0) return Object.is(v, -0) ? '-0' : '0';
    const { digits, exp } = shortestDigits(v);
    let s: string;
    if (exp >= digits.length - 1) s = digits + '0'.repeat(exp - digits.length + 1);
    else if (exp >= 0) s = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
    else s = '0.' + '0'.repeat(-exp - 1) + digits;
    return (v < 0 ? '-' : '') + s;
  }
  const sign = v < 0 || Object.is(v, -0) ? '-' : '';
  if (v === 0) return sign + (prec > 0 ? '0.' + '0'.repeat(prec) : '0');
  const { point } = exactDecimal(Math.abs(v));
  const n = point + prec;
  let int: string;
  if (n <= 0) {
    // Only the first significant digit can round up to one unit in the last place.
    const { digits } = exactDecimal(Math.abs(v));
    const ds = digits.slice(digits.search(/[1-9]/));
    const up = n === 0 && (ds[0]! > '5' || (ds[0] === '5' && /[1-9]/.test(ds.slice(1))));
    int = up ? '1' : '0';
  } else {
    const r = roundSig(v, n);
    int = r.exp + 1 > point ? r.digits + '0' : r.digits;
  }
  int = int.padStart(prec + 1, '0');
  const whole = int.slice(0, int.length - prec);
  return sign + (prec > 0 ? `${whole}.${int.slice(int.length - prec)}` : whole);
}

/** strconv.FormatFloat(v, 'g', prec, 64); prec -1 means shortest (what %v and Print use). */
export function formatG(v: number, prec: number): string {
  if (!Number.isFinite(v)) return nonFinite(v);
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  let digits: string;
  let exp: number;
  if (prec < 0) ({ digits, exp } = shortestDigits(v));
  else {
    const r = roundSig(v, prec === 0 ? 1 : prec);
    digits = r.digits.replace(/0+$/, '') || '0';
    exp = r.exp;
  }
  // Go: exponent form when exp < -4 or exp >= precision, with precision 6 for the shortest form.
  let eprec = prec < 0 ? 6 : prec === 0 ? 1 : prec;
  if (prec >= 0 && eprec > digits.length && digits.length >= exp + 1) eprec = digits.length;
  const sign = v < 0 ? '-' : '';
  if (exp < -4 || exp >= eprec) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return sign + mant + expSuffix(exp);
  }
  if (exp >= digits.length - 1) return sign + digits + '0'.repeat(exp - digits.length + 1);
  if (exp >= 0) return sign + digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  return sign + '0.' + '0'.repeat(-exp - 1) + digits;
}

function nonFinite(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

/** Go's strconv.Quote for the common cases: printable text kept, controls escaped. */
export function goQuoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** fmt's %v of any value: what `{{ x }}` and `print` write. */
export function formatV(v: TValue): string {
  if (v === null || v === undefined) return '<nil>';
  const named = goTypeOf(v);
  if (named?.string) return named.string(v);
  if (named?.basic) return formatV(named.basic(v));
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatG(v, -1);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map(formatV).join(' ') + ']';
  if (v instanceof Map) {
    const keys = [...v.keys()].sort();
    return 'map[' + keys.map((k) => `${k}:${formatV(v.get(k))}`).join(' ') + ']';
  }
  return '{' + Object.values(v).map(formatV).join(' ') + '}';
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly TValue[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatV(a);
  });
  return out;
}

/** fmt.Sprintln: spaces between all operands and a newline. */
export function sprintln(args: readonly TValue[]): string {
  return args.map(formatV).join(' ') + '\n';
}

interface Spec {
  minus: boolean;
  plus: boolean;
  zero: boolean;
  space: boolean;
  sharp: boolean;
  width: number | undefined;
  prec: number | undefined;
}

function pad(s: string, spec: Spec, numeric: boolean): string {
  if (spec.width === undefined || s.length >= spec.width) return s;
  const n = spec.width - [...s].length;
  if (n <= 0) return s;
  if (spec.minus) return s + ' '.repeat(n);
  if (spec.zero && numeric) {
    const sign = /^[+\- ]/.test(s) ? s[0]! : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

function badVerb(verb: string, v: TValue): string {
  return `%!${verb}(${goTypeName(v)}=${formatV(v)})`;
}

function signed(s: string, spec: Spec): string {
  if (s.startsWith('-') || s === 'NaN') return s;
  if (spec.plus) return '+' + s;
  if (spec.space) return ' ' + s;
  return s;
}

function formatOne(verb: string, v: TValue, spec: Spec): string {
  // fmt calls String() for the string verbs only; other verbs see the underlying value.
  const named = goTypeOf(v);
  if (named?.string && 'vsqxX'.includes(verb)) v = named.string(v);
  else if (named?.basic) v = named.basic(v);
  switch (verb) {
    case 'v':
      if (typeof v === 'number') return pad(signed(formatG(v, spec.prec ?? -1), spec), spec, true);
      if (typeof v === 'string' && spec.prec !== undefined) return pad([...v].slice(0, spec.prec).join(''), spec, false);
      return pad(formatV(v), spec, typeof v === 'bigint');
    case 's':
      if (typeof v === 'string') return pad(spec.prec !== undefined ? [...v].slice(0, spec.prec).join('') : v, spec, false);
      if (Array.isArray(v) || v instanceof Map) return pad(formatV(v), spec, false);
      return badVerb(verb, v);
    case 'q':
      if (typeof v === 'string') return pad(goQuoteString(v), spec, false);
      if (typeof v === 'bigint') return pad(`'${String.fromCodePoint(Number(v))}'`, spec, false);
      return badVerb(verb, v);
    case 'd':
      if (typeof v === 'bigint') return pad(signed(v.toString(), spec), spec, true);
      return badVerb(verb, v);
    case 'x':
    case 'X': {
      let s: string;
      if (typeof v === 'bigint') s = (v < 0n ? '-' : '') + (v < 0n ? -v : v).toString(16);
      else if (typeof v === 'string') s = Buffer.from(v, 'utf8').toString('hex');
      else if (typeof v === 'number') return badVerb(verb, v);
      else return badVerb(verb, v);
      if (spec.sharp) s = s.startsWith('-') ? '-0x' + s.slice(1) : '0x' + s;
      return pad(verb === 'X' ? s.toUpperCase() : s, spec, true);
    }
    case 'o':
    case 'b':
      if (typeof v === 'bigint') return pad(signed(v.toString(verb === 'o' ? 8 : 2), spec), spec, true);
      return badVerb(verb, v);
    case 'c':
      if (typeof v === 'bigint') return pad(String.fromCodePoint(Number(v)), spec, false);
      return badVerb(verb, v);
    case 't':
      if (typeof v === 'boolean') return pad(String(v), spec, false);
      return badVerb(verb, v);
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      if (typeof v !== 'number') return badVerb(verb, v);
      const lower = verb.toLowerCase();
      let s = lower === 'f' ? formatF(v, spec.prec ?? 6) : lower === 'e' ? formatE(v, spec.prec ?? 6) : formatG(v, spec.prec ?? -1);
      if (verb === 'E' || verb === 'G') s = s.toUpperCase();
      return pad(signed(s, spec), spec, Number.isFinite(v));
    }
    default:
      return `%!${verb}(${goTypeName(v)}=${formatV(v)})`;
  }
}

/** fmt.Sprintf with Go's verbs, flags, width and precision, and Go's error notations. */
export function sprintf(format: string, args: readonly TValue[]): string {
  let out = '';
  let argi = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    i++;
    if (format[i] === '%') {
      out += '%';
      i++;
      continue;
    }
    const spec: Spec = { minus: false, plus: false, zero: false, space: false, sharp: false, width: undefined, prec: undefined };
    for (; i < format.length; i++) {
      const f = format[i];
      if (f === '-') spec.minus = true;
      else if (f === '+') spec.plus = true;
      else if (f === '0') spec.zero = true;
      else if (f === ' ') spec.space = true;
      else if (f === '#') spec.sharp = true;
      else break;
    }
    const takeNum = (): number | undefined => {
      if (format[i] === '*') {
        i++;
        const a = args[argi++];
        return typeof a === 'bigint' ? Number(a) : undefined;
      }
      const m = /^\d+/.exec(format.slice(i));
      if (m === null) return undefined;
      i += m[0].length;
      return Number(m[0]);
    };
    spec.width = takeNum();
    if (format[i] === '.') {
      i++;
      spec.prec = takeNum() ?? 0;
    }
    if (i >= format.length) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    out += formatOne(verb, args[argi++], spec);
  }
  if (argi < args.length) {
    out +=
      '%!(EXTRA ' +
      args
        .slice(argi)
        .map((a) => `${goTypeName(a)}=${formatV(a)}`)
        .join(', ') +
      ')';
  }
  return out;
}
