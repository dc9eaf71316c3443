/**
 * The lexer of OpenMetrics 1.0 text, after Prometheus 3's `openmetricslex.l`: exactly one space
 * between fields, no blank lines, no free-form comments, `# EOF` last, exemplars after ` # `.
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

/** Lexer for OpenMetrics text. */
export class OpenMetricsLexer extends LexerBase {
  lex(): Token {
    const b = this.b;
    const n = this.n;
    const i = this.i;
    if (i >= n) return T.EOF;
    this.start = i;
    const c = b[i]!;
    switch (this.state) {
      case S.INIT:
        if (c === 35 /* # */) {
          if (b[i + 1] !== 32) return this.invalid(i);
          this.state = S.COMMENT;
          return this.commentKeyword(i + 2);
        }
        if (c === 123) {
          this.i = i + 1;
          this.state = S.LABELS;
          return T.BOPEN;
        }
        if (CLASS[c]! & CL.M) {
          this.i = this.scanName(i, NAME_FIRST, NAME_REST);
          this.esc = this.high = false;
          this.state = S.VALUE;
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
        // `{S}{C}*\n`: the token keeps the leading space and the newline; the parser strips them.
        if (c !== 32) return this.invalid(i);
        const nl = b.indexOf(10, i + 1);
        if (nl < 0) return this.invalid(n);
        this.i = nl + 1;
        this.state = S.INIT;
        return T.TEXT;
      }
      case S.LABELS:
      case S.EXEMPLAR: {
        const ex = this.state === S.EXEMPLAR;
        if (c === 34) {
          const e = this.scanQuoted(i, !ex, false);
          if (e < 0) return T.INVALID;
          this.i = e;
          return T.QSTRING;
        }
        if (c === 125) {
          this.i = i + 1;
          this.state = ex ? S.EVALUE : S.VALUE;
          return T.BCLOSE;
        }
        if (c === 61) {
          this.i = i + 1;
          this.state = ex ? S.EVALUE : S.LVALUE;
          return T.EQUAL;
        }
        if (c === 44) {
          this.i = i + 1;
          return T.COMMA;
        }
        if (CLASS[c]! & CL.L) {
          this.i = this.scanName(i, LNAME_FIRST, LNAME_REST);
          this.esc = this.high = false;
          return T.LNAME;
        }
        return this.invalid(i);
      }
      case S.LVALUE:
        if (c === 34) {
          const e = this.scanQuoted(i, false, true);
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
        return this.spaceField(i, S.TIMESTAMP, T.VALUE);
      case S.TIMESTAMP:
        if (c === 10) {
          this.i = i + 1;
          this.state = S.INIT;
          return T.LINEBREAK;
        }
        // ` # {` starts an exemplar; it is longer than the timestamp rule's ` #`, so it wins.
        if (c === 32 && b[i + 1] === 35 && b[i + 2] === 32 && b[i + 3] === 123) {
          this.i = i + 4;
          this.state = S.EXEMPLAR;
          return T.COMMENT;
        }
        return this.spaceField(i, S.TIMESTAMP, T.TIMESTAMP);
      case S.EVALUE:
        if (c === 34) {
          const e = this.scanQuoted(i, false, false);
          if (e < 0) return T.INVALID;
          this.i = e;
          this.state = S.EXEMPLAR;
          return T.LVALUE;
        }
        return this.spaceField(i, S.ETIMESTAMP, T.VALUE);
      case S.ETIMESTAMP:
        if (c === 10) {
          this.i = i + 1;
          this.state = S.INIT;
          return T.LINEBREAK;
        }
        return this.spaceField(i, S.ETIMESTAMP, T.TIMESTAMP);
      default:
        return this.invalid(i);
    }
  }

  /** `{S}[^ \n]+`: one space, then a non-empty field. */
  private spaceField(i: number, next: (typeof S)[keyof typeof S], tok: Token): Token {
    const b = this.b;
    const n = this.n;
    if (b[i] !== 32) return this.invalid(i);
    let k = i + 1;
    while (k < n) {
      const d = b[k]!;
      if (d === 32 || d === 10 || d === 0) break;
      k++;
    }
    if (k === i + 1) return this.invalid(k);
    this.i = k;
    this.state = next;
    return tok;
  }

  /** After `# `: HELP, TYPE or UNIT and a space, or `EOF` with an optional newline. */
  private commentKeyword(i: number): Token {
    const b = this.b;
    const k0 = b[i];
    const k1 = b[i + 1];
    const k2 = b[i + 2];
    const k3 = b[i + 3];
    if (k0 === 69 && k1 === 79 && k2 === 70) {
      // EOF
      this.i = k3 === 10 ? i + 4 : i + 3;
      this.state = S.INIT;
      return T.EOFWORD;
    }
    if (b[i + 4] === 32) {
      let t: Token | undefined;
      if (k0 === 72 && k1 === 69 && k2 === 76 && k3 === 80) t = T.HELP;
      else if (k0 === 84 && k1 === 89 && k2 === 80 && k3 === 69) t = T.TYPE;
      else if (k0 === 85 && k1 === 78 && k2 === 73 && k3 === 84) t = T.UNIT;
      if (t !== undefined) {
        this.i = i + 5;
        this.state = S.META1;
        return t;
      }
    }
    return this.invalid(i);
  }

  private invalid(i: number): Token {
    this.i = i;
    return T.INVALID;
  }
}
