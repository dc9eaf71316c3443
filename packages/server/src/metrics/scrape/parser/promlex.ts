/**
 * The lexer of the Prometheus text format 0.0.4, after Prometheus 3's `promlex.l`: blanks and
 * tabs separate tokens, `#` lines that are not HELP or TYPE are comments, metric and label names
 * may be quoted UTF-8 strings (`{"my.metric", "a.b"="x"}`), and a NUL at the start of a line
 * ends the input.
 */
import { CL as CL_, CLASS as CLASS_, LexerBase, S as S_, T as T_, type Token } from './tokens.js';

// Module-local aliases: some loaders (tsx, bundlers) turn imported bindings into getters, which
// would cost a call per token on the hot path.
const CL = CL_;
const CLASS = CLASS_;
const S = S_;
const T = T_;

const NAME_FIRST = CL.M;
const NAME_REST = CL.M | CL.D;
const LNAME_FIRST = CL.L;
const LNAME_REST = CL.L | CL.D;

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** Lexer for the Prometheus text format. The body must end with `\n`. */
export class PromLexer extends LexerBase {
  lex(): Token {
    const b = this.b;
    const n = this.n;
    let i = this.i;
    if (i >= n) return T.EOF;
    this.start = i;
    const c = b[i]!;
    // `<*>[ \t]+` applies in every state, except that in META2 a longer `{C}*` wins.
    if (isBlank(c) && this.state !== S.META2) {
      i++;
      while (i < n && isBlank(b[i]!)) i++;
      this.i = i;
      return T.WHITESPACE;
    }
    switch (this.state) {
      case S.INIT:
        if (c === 0) return T.EOF;
        if (c === 10) {
          this.i = i + 1;
          return T.LINEBREAK;
        }
        if (c === 35 /* # */) {
          i++;
          if (i < n && isBlank(b[i]!)) {
            while (i < n && isBlank(b[i]!)) i++;
            this.state = S.COMMENT;
            return this.commentKeyword(i);
          }
          return this.consumeComment(i, false);
        }
        if (c === 123 /* { */) {
          this.i = i + 1;
          this.state = S.LABELS;
          return T.BOPEN;
        }
        if (CLASS[c]! & CL.M) {
          this.i = this.scanName(i, NAME_FIRST, NAME_REST);
          this.state = S.VALUE;
          this.esc = this.high = false;
          return T.MNAME;
        }
        return this.invalid(i);
      case S.COMMENT:
        return this.commentKeyword(i);
      case S.META1: {
        if (c === 34) {
          const e = this.scanQuoted(i, true, false);
          if (e < 0) return T.INVALID;
          this.i = e;
          this.state = S.META2;
          return T.MNAME;
        }
        const e = this.scanName(i, NAME_FIRST, NAME_REST);
        if (e === i) return this.invalid(i);
        this.i = e;
        this.esc = this.high = false;
        this.state = S.META2;
        return T.MNAME;
      }
      case S.META2: {
        const nl = b.indexOf(10, i);
        const e = nl < 0 ? n : nl;
        let k = i;
        while (k < e && isBlank(b[k]!)) k++;
        this.i = e;
        // All blanks: the earlier whitespace rule wins the tie with `{C}*`.
        if (k === e && e > i) return T.WHITESPACE;
        this.state = S.INIT;
        return T.TEXT;
      }
      case S.LABELS:
        if (c === 34) {
          const e = this.scanQuoted(i, true, false);
          if (e < 0) return T.INVALID;
          this.i = e;
          return T.QSTRING;
        }
        if (c === 125 /* } */) {
          this.i = i + 1;
          this.state = S.VALUE;
          return T.BCLOSE;
        }
        if (c === 61 /* = */) {
          this.i = i + 1;
          this.state = S.LVALUE;
          return T.EQUAL;
        }
        if (c === 44 /* , */) {
          this.i = i + 1;
          return T.COMMA;
        }
        if (CLASS[c]! & CL.L) {
          this.i = this.scanName(i, LNAME_FIRST, LNAME_REST);
          this.esc = this.high = false;
          return T.LNAME;
        }
        return this.invalid(i);
      case S.LVALUE:
        if (c === 34) {
          const e = this.scanQuoted(i, true, true);
          if (e < 0) return T.INVALID;
          this.i = e;
          this.state = S.LABELS;
          return T.LVALUE;
        }
        return this.invalid(i);
      case S.VALUE:
        if (c === 123) {
          this.i = i + 1;
          this.state = S.LABELS;
          return T.BOPEN;
        }
        if (c === 10 || c === 0) return this.invalid(i);
        // `[^{ \t\n]+`
        i++;
        while (i < n) {
          const d = b[i]!;
          if (d === 123 || d === 32 || d === 9 || d === 10 || d === 0) break;
          i++;
        }
        this.i = i;
        this.state = S.TIMESTAMP;
        return T.VALUE;
      case S.TIMESTAMP:
        if (c >= 48 && c <= 57) {
          i++;
          while (i < n && b[i]! >= 48 && b[i]! <= 57) i++;
          this.i = i;
          return T.TIMESTAMP;
        }
        if (c === 10) {
          this.i = i + 1;
          this.state = S.INIT;
          return T.LINEBREAK;
        }
        return this.invalid(i);
      default:
        return this.invalid(i);
    }
  }

  /** After `#` and blanks: HELP or TYPE followed by blanks, else the line is a comment. */
  private commentKeyword(i: number): Token {
    const b = this.b;
    const n = this.n;
    if (i + 4 < n) {
      const isHelp = b[i] === 72 && b[i + 1] === 69 && b[i + 2] === 76 && b[i + 3] === 80; // HELP
      const isType = b[i] === 84 && b[i + 1] === 89 && b[i + 2] === 80 && b[i + 3] === 69; // TYPE
      if ((isHelp || isType) && isBlank(b[i + 4]!)) {
        i += 5;
        while (i < n && isBlank(b[i]!)) i++;
        this.i = i;
        this.state = S.META1;
        return isHelp ? T.HELP : T.TYPE;
      }
    }
    return this.consumeComment(i, true);
  }

  /**
   * Skips to the end of the line. Like Prometheus, a NUL byte ends the input, except inside a
   * `# ` comment after its first byte, where NULs are skipped.
   */
  private consumeComment(i: number, inComment: boolean): Token {
    const b = this.b;
    const n = this.n;
    if (i < n && b[i] === 0) {
      this.i = i;
      return T.EOF;
    }
    while (i < n) {
      const c = b[i]!;
      if (c === 10) {
        this.i = i;
        this.state = S.INIT;
        return T.COMMENT;
      }
      if (c === 0 && !inComment) {
        this.i = i;
        return T.EOF;
      }
      i++;
    }
    this.i = n;
    return T.EOF;
  }

  private invalid(i: number): Token {
    this.i = i;
    return T.INVALID;
  }
}
