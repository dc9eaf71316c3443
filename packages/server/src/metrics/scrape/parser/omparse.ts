/**
 * The OpenMetrics 1.0 text parser, following Prometheus 3's `OpenMetricsParser`: strict single
 * spaces, `# EOF` required last, float-second timestamps, exemplars, UNIT lines whose unit must
 * suffix the family name. `_created` samples are returned as series; {@link ExpositionParser.isCreated}
 * tells a caller which ones to drop or turn into created timestamps.
 */
import { isUtf8 } from 'node:buffer';
import { TextParserBase } from './base.js';
import { quoteBytes } from './errors.js';
import { unescapeLabelValue } from './escape.js';
import { floatError, parseFloatBytes } from './float.js';
import { OpenMetricsLexer } from './omlex.js';
import { T as T_, tokenName, type Token } from './tokens.js';
import type { EntryKind, MetricType } from './types.js';

// Module-local aliases: some loaders (tsx, bundlers) turn imported bindings into getters, which
// would cost a call per token on the hot path.
const T = T_;

const TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'gaugehistogram',
  summary: 'summary',
  info: 'info',
  stateset: 'stateset',
  unknown: 'unknown',
};

/** Go's `%f` for the non-finite values that reach timestamp errors. */
function goNonFinite(f: number): string {
  return Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf';
}

/** A pull parser for one OpenMetrics text body. See {@link ExpositionParser} for the protocol. */
export class OpenMetricsParser extends TextParserBase {
  readonly format = 'openmetrics-text' as const;
  private done = false;

  constructor(body: Buffer) {
    super(new OpenMetricsLexer(body));
  }

  next(): EntryKind {
    if (this.done) return 'eof';
    const lx = this.lx;
    this.resetLine();
    const t = this.tok();
    switch (t) {
      case T.EOFWORD:
        if (this.tok() !== T.EOF) throw this.plainError('unexpected data after # EOF', lx.start);
        this.done = true;
        return 'eof';
      case T.EOF:
        throw this.plainError('data does not end with # EOF', lx.i);
      case T.HELP:
      case T.TYPE:
      case T.UNIT:
        return this.metadata(t);
      case T.BOPEN:
        this.seriesStart = lx.start;
        this.parseLabels(false, true);
        this.seriesEnd = lx.i;
        this.requireName();
        this.endOfLine(this.tok());
        return 'series';
      case T.MNAME: {
        this.seriesStart = lx.start;
        this.nameStart = lx.start;
        this.nameEnd = lx.i;
        this.seriesEnd = lx.i;
        let t2 = this.tok();
        if (t2 === T.BOPEN) {
          this.parseLabels(false, true);
          this.seriesEnd = lx.i;
          t2 = this.tok();
        }
        this.endOfLine(t2);
        return 'series';
      }
      default:
        throw this.tokenError('expected a valid start token', t);
    }
  }

  private metadata(kw: Token): EntryKind {
    const lx = this.lx;
    const t2 = this.tok();
    if (t2 !== T.MNAME) throw this.tokenError(`expected metric name after ${tokenName(kw)}`, t2);
    this.setMetaName();
    const t3 = this.tok();
    if (t3 !== T.TEXT) throw this.plainError(`expected text in ${tokenName(kw)}`, lx.i);
    // The token is ` text\n`.
    this.textStart = lx.start + 1;
    this.textEnd = lx.i - 1;
    if (kw === T.TYPE) {
      this.entryType = this.parseType(TYPES);
      return 'type';
    }
    if (kw === T.HELP) {
      if (!isUtf8(this.b.subarray(this.textStart, this.textEnd))) {
        throw this.plainError(`help text ${quoteBytes(this.b, this.textStart, this.textEnd)} is not a valid utf8 string`, this.textStart);
      }
      return 'help';
    }
    const unitLen = this.textEnd - this.textStart;
    if (unitLen > 0) {
      const m = this.b.subarray(this.metaStart, this.metaEnd);
      const u = this.b.subarray(this.textStart, this.textEnd);
      const at = m.length - unitLen;
      if (at < 1 || m[at - 1] !== 95 /* _ */ || !m.subarray(at).equals(u)) {
        throw this.plainError(
          `unit ${quoteBytes(this.b, this.textStart, this.textEnd)} not a suffix of metric ${quoteBytes(this.b, this.metaStart, this.metaEnd)}`,
          this.textStart,
        );
      }
    }
    return 'unit';
  }

  /** Value, optional timestamp, optional exemplar, newline. */
  private endOfLine(t: Token): void {
    const lx = this.lx;
    this.val = this.floatValue(t, 'metric');
    this.hasTs = false;
    const t2 = this.tok();
    switch (t2) {
      case T.LINEBREAK:
        return;
      case T.COMMENT:
        this.parseExemplar();
        return;
      case T.TIMESTAMP: {
        this.ts = this.seconds(false);
        this.hasTs = true;
        const t3 = this.tok();
        if (t3 === T.LINEBREAK) return;
        if (t3 === T.COMMENT) {
          this.parseExemplar();
          return;
        }
        throw this.tokenError('expected next entry after timestamp', t3);
      }
      case T.EOF:
        throw this.plainError('data does not end with # EOF', lx.i);
      default:
        throw this.tokenError('expected timestamp or new record', t2);
    }
  }

  /** ` # {labels} value [timestamp]` after a sample. */
  private parseExemplar(): void {
    const lx = this.lx;
    this.parseLabels(true, true);
    this.exVal = this.floatValue(this.tok(), 'exemplar labels');
    this.hasExTs = false;
    const t2 = this.tok();
    if (t2 === T.TIMESTAMP) {
      this.exTs = this.seconds(true);
      this.hasExTs = true;
      const t3 = this.tok();
      if (t3 !== T.LINEBREAK) throw this.tokenError('expected next entry after exemplar timestamp', t3);
    } else if (t2 === T.EOF) {
      throw this.plainError('data does not end with # EOF', lx.i);
    } else if (t2 !== T.LINEBREAK) {
      throw this.tokenError('expected timestamp or comment', t2);
    }
    this.hasExemplar = true;
  }

  /** A ` value` token (leading space included). */
  private floatValue(t: Token, after: string): number {
    const lx = this.lx;
    if (t !== T.VALUE) throw this.tokenError(`expected value after ${after}`, t);
    const v = parseFloatBytes(this.b, lx.start + 1, lx.i);
    if (v === undefined) throw this.plainError(`${floatError(this.b, lx.start + 1, lx.i)} while parsing: ${this.lineSoFar()}`, lx.start + 1);
    return v;
  }

  /** A ` timestamp` token in float seconds, as integer milliseconds (truncated, as Go's int64()). */
  private seconds(exemplar: boolean): number {
    const lx = this.lx;
    const s = parseFloatBytes(this.b, lx.start + 1, lx.i);
    if (s === undefined) throw this.plainError(`${floatError(this.b, lx.start + 1, lx.i)} while parsing: ${this.lineSoFar()}`, lx.start + 1);
    if (!Number.isFinite(s)) throw this.plainError(`invalid ${exemplar ? 'exemplar ' : ''}timestamp ${goNonFinite(s)}`, lx.start + 1);
    return this.checkTs(Math.trunc(s * 1000), lx.start + 1);
  }

  /** Exactly one space separates a key from its value (`name{` would continue the key `name`). */
  protected keyEndsAt(end: number): boolean {
    return this.b[end] === 32;
  }

  protected seriesSuffix(): void {
    this.endOfLine(this.tok());
  }

  help(): string {
    return unescapeLabelValue(this.b.toString('utf8', this.textStart, this.textEnd));
  }
}
