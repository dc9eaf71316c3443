/** The LogQL lexer, and the parse error every LogQL front end throws (Loki's message form). */
import { VigilError } from '../../core/errors.js';
import { parseBytes, parseGoDuration } from './units.js';

/** A LogQL syntax or semantic error, with Loki's message form. */
export class LogqlParseError extends VigilError {
  override readonly code = 'bad_data' as const;
  constructor(
    msg: string,
    readonly line: number,
    readonly col: number,
  ) {
    super('bad_data', `parse error at line ${line}, col ${col}: ${msg}`);
  }
}

export type TokKind = 'ident' | 'string' | 'number' | 'duration' | 'bytes' | 'op' | 'eof';
export interface Tok {
  readonly kind: TokKind;
  readonly text: string;
  readonly value: string;
  readonly pos: number;
}

const OPS = ['|=', '|~', '|>', '!=', '!~', '!>', '=~', '==', '>=', '<=', '{', '}', '(', ')', '[', ']', ',', '=', '|', '>', '<', '+', '-', '*', '/', '%', '^'];

function unescape(body: string): string {
  // Go string escapes; JSON.parse handles the common ones, with \' and \xNN handled first.
  const s = body.replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => `\\u00${h}`).replace(/\\'/g, "'");
  return JSON.parse(`"${s.replace(/(^|[^\\])((?:\\\\)*)"/g, '$1$2\\"')}"`) as string;
}

/** Splits `input` into tokens; `fail` reports a bad character or literal at its offset. */
export function lex(input: string, fail: (msg: string, pos: number) => never): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < input.length && input[i] !== '\n') i++;
      continue;
    }
    const start = i;
    if (c === '"') {
      i++;
      while (i < input.length && input[i] !== '"') i += input[i] === '\\' ? 2 : 1;
      if (i >= input.length) fail('literal not terminated', start);
      let value: string;
      try {
        value = unescape(input.slice(start + 1, i));
      } catch {
        fail('invalid string escape', start);
      }
      i++;
      out.push({ kind: 'string', text: input.slice(start, i), value, pos: start });
      continue;
    }
    if (c === '`') {
      const end = input.indexOf('`', i + 1);
      if (end < 0) fail('literal not terminated', start);
      i = end + 1;
      out.push({ kind: 'string', text: input.slice(start, i), value: input.slice(start + 1, end), pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(input[i + 1] ?? ''))) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?([a-zA-Zµ][a-zA-Z0-9µ.]*)?/.exec(input.slice(i))!;
      i += m[0].length;
      const text = m[0];
      if (!m[1]) out.push({ kind: 'number', text, value: text, pos: start });
      else if (parseGoDuration(text) !== undefined) out.push({ kind: 'duration', text, value: text, pos: start });
      else if (parseBytes(text) !== undefined) out.push({ kind: 'bytes', text, value: text, pos: start });
      else fail(`syntax error: unexpected IDENTIFIER ${text}`, start);
      continue;
    }
    if (/[a-zA-Z_]/.test(c)) {
      const m = /^[a-zA-Z_][a-zA-Z0-9_.]*/.exec(input.slice(i))!;
      i += m[0].length;
      out.push({ kind: 'ident', text: m[0], value: m[0], pos: start });
      continue;
    }
    const op = OPS.find((o) => input.startsWith(o, i));
    if (!op) fail(`syntax error: unexpected character ${JSON.stringify(c)}`, start);
    i += op.length;
    out.push({ kind: 'op', text: op, value: op, pos: start });
  }
  out.push({ kind: 'eof', text: '', value: '', pos: input.length });
  return out;
}
