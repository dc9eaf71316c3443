/**
 * The TraceQL lexer, after Tempo's: attribute names run to the next blank or operator character
 * (so `span.http.status-code` is one name, and `span.a+span.b` is too, as in Tempo), can be quoted
 * (`span."foo bar"`), and numbers followed by a unit are Go durations (`1.5s`, `1h30m`).
 */
import { VigilError } from '../../core/errors.js';
import type { AttrScope } from './ast.js';
import { KEYWORDS } from './names.js';

/** Longest queries and deepest nesting the parser accepts: a query is user input on a public API. */
export const MAX_QUERY_LENGTH = 64 * 1024;
export const MAX_NESTING_DEPTH = 64;
/** Most operators in one query: evaluation recurses along operator chains, so they are bounded too. */
export const MAX_OPERATORS = 1000;

/** A TraceQL syntax or semantic error, in Tempo's form `parse error at line 1, col 12: …`. */
export class TraceqlParseError extends VigilError {
  override readonly code = 'bad_data' as const;
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly col: number,
  ) {
    super('bad_data', `parse error at line ${line}, col ${col}: ${detail}`);
  }
}

export type TokKind = 'ident' | 'scoped' | 'attr' | 'string' | 'int' | 'float' | 'duration' | 'op' | 'eof';

export interface Tok {
  readonly kind: TokKind;
  /** The source text (for `attr`, the whole reference such as `span."a b"`). */
  readonly text: string;
  readonly pos: number;
  /** Number value (nanoseconds for durations). */
  readonly num?: number;
  /** String value, or the attribute's name. */
  readonly str?: string;
  readonly scope?: AttrScope;
}

const OPS = ['!>>', '!<<', '&>>', '&<<', '>>', '<<', '>=', '<=', '!=', '=~', '!~', '!>', '!<', '&&', '||', '&>', '&<', '&~'];
const SINGLE = '{}()|,=><!~+-*/%^';
// Characters that end an unquoted attribute name (Tempo's list); everything else, `.` `-` `:` `/` included, continues it.
const NAME_STOP = new Set([...'{}()=~!<>&|^,"']);

const DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ['ns', 1],
  ['us', 1e3],
  ['µs', 1e3],
  ['μs', 1e3],
  ['ms', 1e6],
  ['s', 1e9],
  ['m', 60e9],
  ['h', 3600e9],
]);

/** Parses a Go duration (`1h30m`, `1.5s`, `200ms`) into nanoseconds; undefined when malformed. */
export function parseGoDurationNanos(s: string): number | undefined {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS.get(m[2]!)!;
    at = re.lastIndex;
  }
  return at === s.length && at > 0 ? total : undefined;
}

/** Line and column (both from 1) of a character offset. */
export function lineCol(input: string, pos: number): [number, number] {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < pos && i < input.length; i++) {
    if (input.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return [line, pos - lineStart + 1];
}

export function parseErrorAt(input: string, pos: number, detail: string): TraceqlParseError {
  const [line, col] = lineCol(input, pos);
  return new TraceqlParseError(detail, line, col);
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isIdentStart = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string): boolean => isIdentStart(c) || isDigit(c);

/** Go string escapes as TraceQL strings use them. */
function unescape(body: string): string | undefined {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };
    if (e !== undefined && e in simple) {
      out += simple[e];
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return undefined;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return undefined;
      out += String.fromCodePoint(cp);
      i += n;
    } else {
      return undefined;
    }
  }
  return out;
}

/** Splits a query into tokens; throws {@link TraceqlParseError} on a character or literal it cannot read. */
export function lex(input: string): Tok[] {
  if (input.length > MAX_QUERY_LENGTH) {
    throw new TraceqlParseError(`query is ${input.length} characters long, longer than the limit of ${MAX_QUERY_LENGTH}`, 1, 1);
  }
  const out: Tok[] = [];
  const fail = (pos: number, msg: string): never => {
    throw parseErrorAt(input, pos, msg);
  };
  /** Reads a `"…"` or `` `…` `` literal starting at `start`; returns its value and the index after it. */
  const readString = (start: number): [string, number] => {
    const q = input[start]!;
    let i = start + 1;
    while (i < input.length && input[i] !== q) i += q === '"' && input[i] === '\\' ? 2 : 1;
    if (i >= input.length) fail(start, 'literal not terminated');
    const body = input.slice(start + 1, i);
    const value = q === '`' ? body : unescape(body);
    if (value === undefined) fail(start, 'invalid syntax');
    return [value!, i + 1];
  };
  /** Reads an attribute name (quoted or not) at `i`; returns it and the index after it. */
  const readName = (i: number, at: number): [string, number] => {
    if (input[i] === '"') return readString(i);
    const from = i;
    while (i < input.length && !isSpace(input[i]!) && !NAME_STOP.has(input[i]!)) i++;
    if (i === from) fail(at, 'syntax error: unexpected END_ATTRIBUTE');
    return [input.slice(from, i), i];
  };

  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === '`') {
      const [value, next] = readString(i);
      i = next;
      out.push({ kind: 'string', text: input.slice(start, i), pos: start, str: value });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(input[i + 1] ?? '') && !isNameContext(out))) {
      while (i < input.length && (isDigit(input[i]!) || input[i] === '.')) i++;
      if ((input[i] === 'e' || input[i] === 'E') && /[+-]?\d/.test(input.slice(i + 1, i + 3))) {
        i += input[i + 1] === '+' || input[i + 1] === '-' ? 2 : 1;
        while (i < input.length && isDigit(input[i]!)) i++;
      }
      let j = i;
      while (j < input.length && (isIdentPart(input[j]!) || input[j] === '.' || input[j] === 'µ' || input[j] === 'μ')) j++;
      const text = input.slice(start, j);
      if (j > i) {
        const ns = parseGoDurationNanos(text);
        if (ns === undefined) fail(start, `time: invalid duration "${text}"`);
        out.push({ kind: 'duration', text, pos: start, num: ns! });
        i = j;
        continue;
      }
      const num = Number(text);
      if (!Number.isFinite(num) || text.split('.').length > 2) fail(start, `invalid number "${text}"`);
      const isInt = /^\d+$/.test(text);
      out.push({ kind: isInt ? 'int' : 'float', text, pos: start, num });
      continue;
    }
    if (c === '.') {
      const [name, next] = readName(i + 1, start);
      i = next;
      out.push({ kind: 'attr', text: input.slice(start, i), pos: start, str: name, scope: 'any' });
      continue;
    }
    if (isIdentStart(c)) {
      while (i < input.length && isIdentPart(input[i]!)) i++;
      const word = input.slice(start, i);
      if (input[i] === '.' && (word === 'span' || word === 'resource' || word === 'event' || word === 'link')) {
        const [name, next] = readName(i + 1, start);
        i = next;
        out.push({ kind: 'attr', text: input.slice(start, i), pos: start, str: name, scope: word });
        continue;
      }
      if (input[i] === '.' && ['parent', 'instrumentation'].includes(word)) {
        fail(start, `attribute scope "${word}." is not supported`);
      }
      if (input[i] === ':' && isIdentStart(input[i + 1] ?? '')) {
        i++;
        while (i < input.length && isIdentPart(input[i]!)) i++;
        out.push({ kind: 'scoped', text: input.slice(start, i), pos: start });
        continue;
      }
      out.push({ kind: 'ident', text: word, pos: start });
      continue;
    }
    const op = OPS.find((o) => input.startsWith(o, i));
    if (op !== undefined) {
      out.push({ kind: 'op', text: op, pos: start });
      i += op.length;
      continue;
    }
    if (SINGLE.includes(c)) {
      out.push({ kind: 'op', text: c, pos: start });
      i++;
      continue;
    }
    if (c === '&') fail(start, 'syntax error: unexpected &');
    fail(start, `syntax error: unexpected character ${JSON.stringify(String.fromCodePoint(input.codePointAt(i)!))}`);
  }
  out.push({ kind: 'eof', text: '', pos: input.length });
  return out;
}

/**
 * `.5` is a number after an operator or `(` and an attribute name elsewhere; Tempo's scanner reads a
 * leading `.` as an attribute only where a field may start, which is where a number may start too,
 * so numbers win only right after a comparison or arithmetic operator.
 */
function isNameContext(out: readonly Tok[]): boolean {
  const prev = out[out.length - 1];
  if (prev === undefined || prev.kind !== 'op') return true;
  return !['=', '!=', '>', '>=', '<', '<=', '+', '-', '*', '/', '%', '^', ','].includes(prev.text);
}

/** How a token is named in a syntax error, as Tempo's grammar names it. */
export function describe(t: Tok): string {
  switch (t.kind) {
    case 'eof':
      return '$end';
    case 'string':
      return 'STRING';
    case 'int':
      return 'INTEGER';
    case 'float':
      return 'FLOAT';
    case 'duration':
      return 'DURATION';
    case 'attr':
      return t.scope === 'any' ? '.' : `${t.scope}.`;
    case 'ident':
      return KEYWORDS.has(t.text) ? t.text : 'IDENTIFIER';
    default:
      return t.text;
  }
}
