/**
 * The lexer of the text/template parser (parse.ts): text, actions with their trim markers and
 * comments, and Go's literal forms; plus the error both throw, formatted as Go's text/template does.
 */
import { VigilError } from '../../core/errors.js';

/** A template that cannot be parsed; the message is formatted as Go's text/template does. */
export class TemplateParseError extends VigilError {
  override readonly code = 'template_parse' as const;
  constructor(
    readonly templateName: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super('template_parse', `template: ${templateName}:${line}: ${reason}`);
  }
}

export type TokKind =
  | 'text'
  | 'left'
  | 'right'
  | 'space'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'declare'
  | 'assign'
  | 'field'
  | 'var'
  | 'ident'
  | 'dot'
  | 'string'
  | 'rawstring'
  | 'char'
  | 'number'
  | 'bool'
  | 'nil'
  | 'keyword'
  | 'eof';

export interface Tok {
  kind: TokKind;
  val: string;
  pos: number;
}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block']);

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

function isAlnum(c: string | undefined): boolean {
  return c !== undefined && /[\p{L}\p{Nd}_]/u.test(c);
}

/** Splits a template into tokens, applying trim markers to the surrounding text. */
export function lex(name: string, src: string): Tok[] {
  const toks: Tok[] = [];
  const lineAt = (pos: number): number => src.slice(0, pos).split('\n').length;
  const fail = (pos: number, msg: string): never => {
    throw new TemplateParseError(name, lineAt(pos), msg);
  };
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    const textPos = i;
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) {
      if (text !== '') toks.push({ kind: 'text', val: text, pos: textPos });
      break;
    }
    let p = open + 2;
    if (src[p] === '-' && isSpace(src[p + 1])) {
      text = text.replace(/[ \t\r\n]+$/, '');
      p += 2;
    }
    if (text !== '') toks.push({ kind: 'text', val: text, pos: textPos });
    // A comment fills the whole action.
    let q = p;
    while (isSpace(src[q])) q++;
    if (src.startsWith('/*', p) || (q !== p && src.startsWith('/*', q) && src[open + 2] === '-')) {
      const start = src.startsWith('/*', p) ? p : q;
      const end = src.indexOf('*/', start + 2);
      if (end < 0) fail(start, 'unclosed comment');
      let r = end + 2;
      if (src.startsWith(' -}}', r)) {
        trimNext = true;
        r += 4;
      } else if (src.startsWith('}}', r)) r += 2;
      else fail(r, 'comment ends before closing delimiter');
      i = r;
      continue;
    }
    toks.push({ kind: 'left', val: '{{', pos: open });
    // Inside an action.
    for (;;) {
      if (p >= src.length) fail(open, 'unclosed action');
      if (isSpace(src[p]) && src[p + 1] === '-' && src.startsWith('}}', p + 2)) {
        trimNext = true;
        toks.push({ kind: 'right', val: '}}', pos: p + 2 });
        p += 4;
        break;
      }
      if (src.startsWith('}}', p)) {
        toks.push({ kind: 'right', val: '}}', pos: p });
        p += 2;
        break;
      }
      const c = src[p]!;
      const start = p;
      if (isSpace(c)) {
        while (isSpace(src[p]) && !(src[p + 1] === '-' && src.startsWith('}}', p + 2) && isSpace(src[p]))) p++;
        if (p === start) p++;
        toks.push({ kind: 'space', val: ' ', pos: start });
        continue;
      }
      if (c === '|') toks.push({ kind: 'pipe', val: c, pos: p++ });
      else if (c === '(') toks.push({ kind: 'lparen', val: c, pos: p++ });
      else if (c === ')') toks.push({ kind: 'rparen', val: c, pos: p++ });
      else if (c === ',') toks.push({ kind: 'comma', val: c, pos: p++ });
      else if (c === ':') {
        if (src[p + 1] !== '=') fail(p, 'expected :=');
        toks.push({ kind: 'declare', val: ':=', pos: p });
        p += 2;
      } else if (c === '=') toks.push({ kind: 'assign', val: c, pos: p++ });
      else if (c === '"' || c === "'") {
        p++;
        while (p < src.length && src[p] !== c) {
          if (src[p] === '\\') p++;
          if (src[p] === '\n') fail(start, `unterminated ${c === '"' ? 'quoted string' : 'character constant'}`);
          p++;
        }
        if (p >= src.length) fail(start, `unterminated ${c === '"' ? 'quoted string' : 'character constant'}`);
        p++;
        toks.push({ kind: c === '"' ? 'string' : 'char', val: src.slice(start, p), pos: start });
      } else if (c === '`') {
        const end = src.indexOf('`', p + 1);
        if (end < 0) fail(start, 'unterminated raw quoted string');
        p = end + 1;
        toks.push({ kind: 'rawstring', val: src.slice(start, p), pos: start });
      } else if (c === '$') {
        p++;
        while (isAlnum(src[p])) p++;
        toks.push({ kind: 'var', val: src.slice(start, p), pos: start });
      } else if (c === '.') {
        if (/[0-9]/.test(src[p + 1] ?? '')) {
          p = lexNumber(src, p);
          toks.push({ kind: 'number', val: src.slice(start, p), pos: start });
        } else {
          p++;
          while (isAlnum(src[p])) p++;
          toks.push(p === start + 1 ? { kind: 'dot', val: '.', pos: start } : { kind: 'field', val: src.slice(start, p), pos: start });
        }
      } else if (/[0-9+-]/.test(c)) {
        p = lexNumber(src, p);
        if (p === start) fail(start, `bad character ${JSON.stringify(c)}`);
        toks.push({ kind: 'number', val: src.slice(start, p), pos: start });
      } else if (isAlnum(c)) {
        while (isAlnum(src[p])) p++;
        const word = src.slice(start, p);
        const kind: TokKind = KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'ident';
        toks.push({ kind, val: word, pos: start });
      } else {
        fail(p, `unexpected ${JSON.stringify(c)} in command`);
      }
    }
    i = p;
  }
  toks.push({ kind: 'eof', val: '', pos: src.length });
  return toks;
}

function lexNumber(src: string, p: number): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]+(\.[0-9a-fA-F_]*)?([pP][+-]?\d+)?|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)i?/.exec(src.slice(p));
  return m === null || m[0] === '' || m[0] === '+' || m[0] === '-' ? p : p + m[0].length;
}

/** Go's strconv.Unquote for the string forms a template may contain. */
export function unquote(s: string): string {
  if (s.startsWith('`')) return s.slice(1, -1);
  const body = s.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'a':
        return '\x07';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case 'x':
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      default:
        if (/^[0-7]{3}$/.test(e)) return String.fromCharCode(parseInt(e, 8));
        return e;
    }
  });
}

/** A number literal's value: an integer (bigint) in any of Go's bases, or a float; undefined if it is neither. */
export function parseNumber(text: string): number | bigint | undefined {
  const clean = text.replace(/_/g, '');
  if (/^[+-]?(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|\d+)$/.test(clean)) {
    const neg = clean.startsWith('-');
    const body = clean.replace(/^[+-]/, '');
    const lower = body.toLowerCase();
    let v: bigint;
    if (/^0[0-7]+$/.test(body)) v = BigInt('0o' + body.slice(1));
    else v = BigInt(lower);
    return neg ? -v : v;
  }
  const f = Number(clean);
  return Number.isNaN(f) ? undefined : f;
}
