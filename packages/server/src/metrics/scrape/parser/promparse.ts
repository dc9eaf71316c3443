/**
 * The Prometheus text format 0.0.4 parser, following Prometheus 3's `PromParser` line by line:
 * blank lines and comments are skipped, labels may be separated by blanks as well as commas, a
 * trailing comma is allowed, timestamps are integer milliseconds.
 */
import { isUtf8 } from 'node:buffer';
import { TextParserBase } from './base.js';
import { quoteBytes } from './errors.js';
import { unescapeHelp } from './escape.js';
import { floatError, parseFloatBytes } from './float.js';
import { PromLexer } from './promlex.js';
import { T as T_, tokenName, type Token } from './tokens.js';
import type { EntryKind, MetricType } from './types.js';

// Module-local aliases: some loaders (tsx, bundlers) turn imported bindings into getters, which
// would cost a call per token on the hot path.
const T = T_;

const TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
};

/** A pull parser for one Prometheus text body. See {@link ExpositionParser} for the protocol. */
export class PromTextParser extends TextParserBase {
  readonly format = 'prometheus-text' as const;

  /** The body is read in place unless it lacks a final newline, which the lexer needs. */
  constructor(body: Buffer) {
    super(new PromLexer(body.length > 0 && body[body.length - 1] === 10 ? body : Buffer.concat([body, Buffer.from('\n')])));
  }

  next(): EntryKind {
    const lx = this.lx;
    for (;;) {
      this.resetLine();
      const t = this.tok();
      switch (t) {
        case T.EOF:
          return 'eof';
        case T.LINEBREAK:
          continue;
        case T.HELP:
        case T.TYPE:
          return this.metadata(t);
        case T.COMMENT: {
          const t2 = this.tok();
          if (t2 !== T.LINEBREAK) throw this.tokenError('linebreak expected after comment', t2);
          continue;
        }
        case T.BOPEN:
          this.seriesStart = lx.start;
          this.parseLabels(false, false);
          this.seriesEnd = lx.i;
          this.requireName();
          return this.suffix(this.tok());
        case T.MNAME: {
          this.seriesStart = lx.start;
          this.nameStart = lx.start;
          this.nameEnd = lx.i;
          this.seriesEnd = lx.i;
          let t2 = this.tok();
          if (t2 === T.BOPEN) {
            this.parseLabels(false, false);
            this.seriesEnd = lx.i;
            t2 = this.tok();
          }
          return this.suffix(t2);
        }
        default:
          throw this.tokenError('expected a valid start token', t);
      }
    }
  }

  private metadata(kw: Token): EntryKind {
    const lx = this.lx;
    const t2 = this.tok();
    if (t2 !== T.MNAME) throw this.tokenError(`expected metric name after ${tokenName(kw)}`, t2);
    this.setMetaName();
    const t3 = this.tok();
    if (t3 !== T.TEXT) throw this.plainError(`expected text in ${tokenName(kw)}, got ${tokenName(t3)}`, lx.start);
    // The text token starts with the separating character; Prometheus drops exactly one.
    this.textStart = lx.i - lx.start > 1 ? lx.start + 1 : lx.i;
    this.textEnd = lx.i;
    if (kw === T.TYPE) this.entryType = this.parseType(TYPES);
    else if (!isUtf8(this.b.subarray(this.textStart, this.textEnd))) {
      throw this.plainError(`help text ${quoteBytes(this.b, this.textStart, this.textEnd)} is not a valid utf8 string`, this.textStart);
    }
    const t4 = this.tok();
    if (t4 !== T.LINEBREAK) throw this.tokenError('linebreak expected after metadata', t4);
    return kw === T.TYPE ? 'type' : 'help';
  }

  /** Value, optional integer timestamp, end of line. */
  private suffix(t: Token): EntryKind {
    const lx = this.lx;
    if (t !== T.VALUE) throw this.tokenError('expected value after metric', t);
    const v = parseFloatBytes(this.b, lx.start, lx.i);
    if (v === undefined) throw this.plainError(`${floatError(this.b, lx.start, lx.i)} while parsing: ${this.lineSoFar()}`, lx.start);
    this.val = v;
    this.hasTs = false;
    const t2 = this.tok();
    if (t2 === T.LINEBREAK) return 'series';
    if (t2 !== T.TIMESTAMP) throw this.tokenError('expected timestamp or new record', t2);
    // The lexer guarantees digits only.
    let ms = 0;
    for (let k = lx.start; k < lx.i; k++) ms = ms * 10 + (this.b[k]! - 48);
    this.ts = this.checkTs(ms, lx.start);
    this.hasTs = true;
    const t3 = this.tok();
    if (t3 !== T.LINEBREAK) throw this.tokenError('expected next entry after timestamp', t3);
    return 'series';
  }

  /**
   * Blanks must follow (the lexer would also take `name{…}1`, which then goes the slow way), and
   * after them no `{`: `name {a="b"} 1` continues the key `name`.
   */
  protected keyEndsAt(end: number): boolean {
    const b = this.b;
    let j = end;
    while (b[j] === 32 || b[j] === 9) j++;
    return j > end && b[j] !== 123;
  }

  protected seriesSuffix(): void {
    this.suffix(this.tok());
  }

  help(): string {
    return unescapeHelp(this.b.toString('utf8', this.textStart, this.textEnd));
  }
}
