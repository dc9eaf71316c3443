/**
 * Tokens, lexer states and character classes shared by the two lexers. They mirror the golex
 * lexers of Prometheus' `model/textparse` (`promlex.l`, `openmetricslex.l`) so that the same input
 * splits into the same tokens and errors name the same token kinds.
 */

/** Token kinds. Numbers, not strings, because the lexers return one per token on the hot path. */
export const T = {
  INVALID: -1,
  EOF: 0,
  LINEBREAK: 1,
  WHITESPACE: 2,
  HELP: 3,
  TYPE: 4,
  UNIT: 5,
  EOFWORD: 6,
  TEXT: 7,
  COMMENT: 8,
  MNAME: 9,
  QSTRING: 10,
  BOPEN: 11,
  BCLOSE: 12,
  LNAME: 13,
  LVALUE: 14,
  COMMA: 15,
  EQUAL: 16,
  TIMESTAMP: 17,
  VALUE: 18,
} as const;
/** One of the values of {@link T}. */
export type Token = (typeof T)[keyof typeof T];

const NAMES: Readonly<Record<number, string>> = {
  [T.INVALID]: 'INVALID',
  [T.EOF]: 'EOF',
  [T.LINEBREAK]: 'LINEBREAK',
  [T.WHITESPACE]: 'WHITESPACE',
  [T.HELP]: 'HELP',
  [T.TYPE]: 'TYPE',
  [T.UNIT]: 'UNIT',
  [T.EOFWORD]: 'EOFWORD',
  [T.TEXT]: 'TEXT',
  [T.COMMENT]: 'COMMENT',
  [T.MNAME]: 'MNAME',
  [T.QSTRING]: 'QSTRING',
  [T.BOPEN]: 'BOPEN',
  [T.BCLOSE]: 'BCLOSE',
  [T.LNAME]: 'LNAME',
  [T.LVALUE]: 'LVALUE',
  [T.COMMA]: 'COMMA',
  [T.EQUAL]: 'EQUAL',
  [T.TIMESTAMP]: 'TIMESTAMP',
  [T.VALUE]: 'VALUE',
};

/** The token's name as Prometheus prints it in parse errors. */
export function tokenName(t: Token): string {
  return NAMES[t] ?? `<invalid: ${t}>`;
}

/** Lexer states (golex start conditions). */
export const S = {
  INIT: 0,
  COMMENT: 1,
  META1: 2,
  META2: 3,
  LABELS: 4,
  LVALUE: 5,
  VALUE: 6,
  TIMESTAMP: 7,
  EXEMPLAR: 8,
  EVALUE: 9,
  ETIMESTAMP: 10,
} as const;
/** One of the values of {@link S}. */
export type LexState = (typeof S)[keyof typeof S];

/** Character class bits, looked up per byte. */
export const CL = { L: 1, M: 2, D: 4 } as const;

/** Byte → class bits: L = `[a-zA-Z_]`, M = `[a-zA-Z_:]`, D = `[0-9]`. */
export const CLASS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) {
    const ch = String.fromCharCode(c);
    if (/[a-zA-Z_]/.test(ch)) t[c] = CL.L | CL.M;
    else if (ch === ':') t[c] = CL.M;
    else if (/[0-9]/.test(ch)) t[c] = CL.D;
  }
  return t;
})();

/** Common state of both lexers, read by the parsers. */
export abstract class LexerBase {
  /** The body; the Prometheus text lexer guarantees it ends with a newline. */
  readonly b: Buffer;
  readonly n: number;
  /** Position after the last token. */
  i = 0;
  /** Start of the last token. */
  start = 0;
  state: LexState = S.INIT;
  /** The last quoted token contained a backslash (needs unescaping). */
  esc = false;
  /** The last quoted token contained a byte >= 0x80 (needs UTF-8 decoding and validation). */
  high = false;

  constructor(b: Buffer) {
    this.b = b;
    this.n = b.length;
  }

  /** The next token. */
  abstract lex(): Token;

  /** Scans `[M|D]*` after a first name byte at `i`; returns the end. */
  protected scanName(i: number, firstMask: number, restMask: number): number {
    const b = this.b;
    const n = this.n;
    if (i >= n || (CLASS[b[i]!]! & firstMask) === 0) return i;
    i++;
    while (i < n && (CLASS[b[i]!]! & restMask) !== 0) i++;
    return i;
  }

  /**
   * Scans a double-quoted string `"(\\.|[^\\"])*"` starting at the quote at `i`. `.` after a
   * backslash never matches a newline (lex semantics). Returns the end, or -1 with `this.i` set
   * to the byte that failed, as the golex lexer leaves it.
   */
  protected scanQuoted(i: number, allowNewline: boolean, allowNul: boolean): number {
    const b = this.b;
    const n = this.n;
    let esc = false;
    let high = 0;
    i++;
    while (i < n) {
      const c = b[i]!;
      if (c === 34) {
        this.esc = esc;
        this.high = (high & 0x80) !== 0;
        return i + 1;
      }
      if (c === 92) {
        i++;
        if (i >= n) break;
        const d = b[i]!;
        if (d === 10 || (d === 0 && !allowNul)) break;
        esc = true;
        high |= d;
        i++;
        continue;
      }
      if ((c === 10 && !allowNewline) || (c === 0 && !allowNul)) break;
      high |= c;
      i++;
    }
    this.i = i;
    return -1;
  }
}
