/**
 * State and accessors shared by the two text parsers. A parsed line is kept as byte offsets into
 * the body; strings are decoded only when an accessor asks, so a scrape loop that finds the series
 * in its cache by {@link TextParserBase.seriesKey} pays for no label decoding at all.
 */
import { isUtf8 } from 'node:buffer';
import type { FloatHistogram } from '../../../core/model/histogram.js';
import { METRIC_NAME, type Label, type Labels } from '../../../core/model/labels.js';
import { errorAt, ExpositionError, quoteBytes } from './errors.js';
import { unescapeLabelValue } from './escape.js';
import { isCreatedName, isSeriesOfFamily } from './family.js';
import { formatOpenMetricsFloat, parseFloatString } from './float.js';
import { S as S_, T as T_, tokenName, type LexerBase, type Token } from './tokens.js';
import type { EntryKind, Exemplar, ExpositionFormat, ExpositionParser, MetricType } from './types.js';

// Module-local aliases: some loaders (tsx, bundlers) turn imported bindings into getters, which
// would cost a call per token on the hot path.
const T = T_;
const S = S_;

/** Offset flags of a decoded string: it contains a backslash escape / a non-ASCII byte. */
const ESC = 1;
const HIGH = 2;

/** Entries per label in the offset arrays: name start, name end, value start, value end, flags. */
const STRIDE = 5;

/** Shared machinery of {@link PromTextParser} and {@link OpenMetricsParser}. */
export abstract class TextParserBase implements ExpositionParser {
  abstract readonly format: ExpositionFormat;
  protected readonly lx: LexerBase;
  protected readonly b: Buffer;

  /** Start of the current line (or of its first token). */
  protected lineStart = 0;
  protected seriesStart = 0;
  protected seriesEnd = 0;
  protected nameStart = -1;
  protected nameEnd = -1;
  protected nameFlags = 0;
  /** Label offsets of the current series, {@link STRIDE} numbers per label; reused across lines. */
  protected readonly off: number[] = [];
  protected nOff = 0;
  protected val = 0;
  protected ts = 0;
  protected hasTs = false;
  /**
   * The current series was recognised by {@link TextParserBase.nextExpecting} without lexing its
   * key: name and label offsets are found only if an accessor asks for them.
   */
  protected known = false;
  /** Its name and label offsets are not found yet (see {@link TextParserBase.parseKnownKey}). */
  private keyPending = false;

  protected readonly exOff: number[] = [];
  protected nExOff = 0;
  protected hasExemplar = false;
  protected exVal = 0;
  protected exTs = 0;
  protected hasExTs = false;

  /** Metadata entry: family name and text offsets. */
  protected metaStart = 0;
  protected metaEnd = 0;
  protected metaFlags = 0;
  protected textStart = 0;
  protected textEnd = 0;
  protected entryType: MetricType = 'unknown';
  /** The most recent `# TYPE`, which Prometheus applies to the samples that follow. */
  protected curType: MetricType = 'unknown';
  protected curTypeFamily = '';
  private readonly normalized = new Map<string, string>();

  constructor(lx: LexerBase) {
    this.lx = lx;
    this.b = lx.b;
  }

  abstract next(): EntryKind;

  /** Text formats carry no native histograms: {@link next} never returns `histogram`. */
  histogram(): FloatHistogram {
    throw new Error('the text exposition formats have no native histograms');
  }

  histogramExemplars(): readonly Exemplar[] {
    return [];
  }

  createdTimestamp(): number | undefined {
    return undefined;
  }
  abstract help(): string;
  /**
   * After a key recognised by {@link nextExpecting}: whether the key may end at `end`, which holds
   * one of the key's possible successors. False sends the line through {@link next}.
   */
  protected abstract keyEndsAt(end: number): boolean;
  /** Reads what follows a series key (value, timestamp, exemplar, newline) from the lexer's position. */
  protected abstract seriesSuffix(): void;

  /**
   * {@link ExpositionParser.nextExpecting}: when the line at the lexer's position starts with
   * exactly `buf[start:end]`, a key that parsed before, and the key ends there as it did then,
   * the key's bytes are passed over and only the rest of the line is lexed. Identical bytes
   * parse to identical labels, so nothing is lost; everything else goes through {@link next}.
   */
  nextExpecting(buf: Buffer, start: number, end: number): EntryKind {
    const lx = this.lx;
    const b = this.b;
    const i = lx.i;
    const len = end - start;
    // The key is followed at least by a separator and a value, hence `<` rather than `<=`.
    if (lx.state === S.INIT && i + len < lx.n) {
      let k = 0;
      while (k < len && b[i + k] === buf[start + k]) k++;
      if (k === len && this.keyEndsAt(i + len)) {
        this.resetLine();
        this.known = true;
        this.keyPending = true;
        this.seriesStart = i;
        this.seriesEnd = i + len;
        lx.i = i + len;
        lx.start = i + len;
        lx.state = S.VALUE;
        this.seriesSuffix();
        return 'series';
      }
    }
    return this.next();
  }

  seriesKnown(): boolean {
    return this.known;
  }

  /** Finds the name and label offsets of a key recognised by {@link nextExpecting}, then puts the lexer back. */
  private parseKnownKey(): void {
    this.keyPending = false;
    const lx = this.lx;
    const { i, start, state, esc, high } = lx;
    lx.i = this.seriesStart;
    lx.state = S.INIT;
    const strict = this.format === 'openmetrics-text';
    if (this.tok() === T.MNAME) {
      this.nameStart = lx.start;
      this.nameEnd = lx.i;
      if (this.tok() === T.BOPEN) this.parseLabels(false, strict);
    } else {
      this.parseLabels(false, strict);
    }
    lx.i = i;
    lx.start = start;
    lx.state = state;
    lx.esc = esc;
    lx.high = high;
  }

  /** The check both parsers make before a series' value: a key of labels alone must name the metric. */
  protected requireName(): void {
    if (this.nameStart === -1) throw this.plainError(`metric name not set while parsing: ${this.lineSoFar()}`, this.seriesStart);
  }

  /** The next token, skipping blanks (only the Prometheus text lexer produces them). */
  protected tok(): Token {
    let t = this.lx.lex();
    while (t === T.WHITESPACE) t = this.lx.lex();
    return t;
  }

  protected resetLine(): void {
    this.lineStart = this.lx.i;
    this.seriesStart = this.lineStart;
    this.nOff = 0;
    this.nameStart = -1;
    this.nameEnd = -1;
    this.nameFlags = 0;
    this.hasExemplar = false;
    this.known = false;
    this.keyPending = false;
  }

  /** Flags of the token just lexed. */
  protected tokFlags(): number {
    return (this.lx.esc ? ESC : 0) | (this.lx.high ? HIGH : 0);
  }

  /** `exp, got "x" ("TOKEN") while parsing: "line so far"`, as Prometheus' parseError words it. */
  protected tokenError(exp: string, t: Token): ExpositionError {
    const lx = this.lx;
    const e = Math.min(lx.n, lx.i + 1);
    const at = t === T.INVALID && lx.i < lx.n ? lx.i : lx.start;
    return errorAt(
      this.b,
      at,
      `${exp}, got ${quoteBytes(this.b, lx.start, e)} (${JSON.stringify(tokenName(t))}) while parsing: ${quoteBytes(this.b, this.lineStart, e)}`,
    );
  }

  protected plainError(detail: string, at: number): ExpositionError {
    return errorAt(this.b, at, detail);
  }

  /** The line so far, quoted, for "while parsing" suffixes. */
  protected lineSoFar(): string {
    return quoteBytes(this.b, this.seriesStart, this.lx.i);
  }

  protected checkUtf8(s: number, e: number, flags: number, what: string): void {
    if (flags & HIGH && !isUtf8(this.b.subarray(s, e))) throw this.plainError(`invalid UTF-8 ${what}: ${quoteBytes(this.b, s, e)}`, s);
  }

  /**
   * Parses the inside of `{…}` up to and including `}`. Labels go to the series (or, for an
   * exemplar, to the exemplar). A quoted string followed by `,` or `}` is the metric name.
   * `strict` is OpenMetrics: labels must be separated by exactly one comma.
   */
  protected parseLabels(exemplar: boolean, strict: boolean): void {
    const lx = this.lx;
    const off = exemplar ? this.exOff : this.off;
    let n = 0;
    let t = this.tok();
    for (;;) {
      if (t === T.BCLOSE) break;
      if (t !== T.LNAME && t !== T.QSTRING) throw this.tokenError('expected label name', t);
      const quoted = t === T.QSTRING;
      let ns = lx.start;
      let ne = lx.i;
      const nflags = this.tokFlags();
      t = this.tok();
      if (quoted && (t === T.COMMA || t === T.BCLOSE)) {
        if (exemplar) throw this.tokenError('expected label name', t);
        if (this.nameStart !== -1) throw this.plainError(`metric name already set while parsing: ${this.lineSoFar()}`, ns);
        this.checkUtf8(ns + 1, ne - 1, nflags, 'metric name');
        this.nameStart = ns + 1;
        this.nameEnd = ne - 1;
        this.nameFlags = nflags;
        if (t === T.BCLOSE) break;
        t = this.tok();
        continue;
      }
      if (quoted) {
        ns++;
        ne--;
        this.checkUtf8(ns, ne, nflags, 'label name');
      }
      if (t !== T.EQUAL) throw this.tokenError('expected equal', t);
      t = this.tok();
      if (t !== T.LVALUE) throw this.tokenError('expected label value', t);
      const vflags = this.tokFlags();
      this.checkUtf8(lx.start + 1, lx.i - 1, vflags, 'label value');
      off[n++] = ns;
      off[n++] = ne;
      off[n++] = lx.start + 1;
      off[n++] = lx.i - 1;
      off[n++] = nflags | (vflags << 2);
      t = this.tok();
      if (t === T.COMMA) t = this.tok();
      else if (strict && t !== T.BCLOSE) throw this.tokenError('expected comma or brace close', t);
    }
    if (exemplar) this.nExOff = n;
    else this.nOff = n;
  }

  /** Decodes `b[s:e]`: latin1 is exact for ASCII and much cheaper than UTF-8 decoding. */
  protected str(s: number, e: number, flags: number): string {
    const v = flags & HIGH ? this.b.toString('utf8', s, e) : this.b.toString('latin1', s, e);
    return flags & ESC ? unescapeLabelValue(v) : v;
  }

  /** Checks a timestamp in ms against the range a double holds exactly. */
  protected checkTs(ms: number, at: number): number {
    if (!Number.isSafeInteger(ms)) throw this.plainError(`timestamp out of range while parsing: ${this.lineSoFar()}`, at);
    return ms;
  }

  /** Parses a metadata type keyword; `allowed` maps the format's spellings to types. */
  protected parseType(allowed: Readonly<Record<string, MetricType>>): MetricType {
    const s = this.b.toString('latin1', this.textStart, this.textEnd);
    const t = Object.hasOwn(allowed, s) ? allowed[s] : undefined;
    if (t === undefined) throw this.plainError(`invalid metric type ${quoteBytes(this.b, this.textStart, this.textEnd)}`, this.textStart);
    this.curType = t;
    this.curTypeFamily = this.family();
    return t;
  }

  seriesKey(): string {
    return this.b.toString('latin1', this.seriesStart, this.seriesEnd);
  }

  seriesKeyEquals(buf: Buffer, start: number, end: number): boolean {
    return end - start === this.seriesEnd - this.seriesStart && this.b.compare(buf, start, end, this.seriesStart, this.seriesEnd) === 0;
  }

  seriesKeyStart(): number {
    return this.seriesStart;
  }

  seriesKeyEnd(): number {
    return this.seriesEnd;
  }

  metricName(): string {
    if (this.keyPending) this.parseKnownKey();
    return this.str(this.nameStart, this.nameEnd, this.nameFlags);
  }

  labels(): Labels {
    if (this.keyPending) this.parseKnownKey();
    const out: Label[] = [{ name: METRIC_NAME, value: this.metricName() }];
    const off = this.off;
    const type = this.curType;
    const normalize = type === 'histogram' ? 'le' : type === 'summary' ? 'quantile' : '';
    for (let k = 0; k < this.nOff; k += STRIDE) {
      const flags = off[k + 4]!;
      const name = this.str(off[k]!, off[k + 1]!, flags & 3);
      let value = this.str(off[k + 2]!, off[k + 3]!, flags >> 2);
      if (name === normalize) value = this.normalizeFloat(value);
      out.push({ name, value });
    }
    return this.sortUnique(out);
  }

  private sortUnique(out: Label[]): Labels {
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let k = 1; k < out.length; k++) {
      if (out[k]!.name === out[k - 1]!.name) {
        throw this.plainError(
          `label name ${JSON.stringify(out[k]!.name)} is not unique while parsing: ${quoteBytes(this.b, this.seriesStart, this.seriesEnd)}`,
          this.seriesStart,
        );
      }
    }
    return out;
  }

  value(): number {
    return this.val;
  }

  timestamp(): number | undefined {
    return this.hasTs ? this.ts : undefined;
  }

  exemplar(): Exemplar | undefined {
    if (!this.hasExemplar) return undefined;
    const out: Label[] = [];
    const off = this.exOff;
    for (let k = 0; k < this.nExOff; k += STRIDE) {
      const flags = off[k + 4]!;
      out.push({ name: this.str(off[k]!, off[k + 1]!, flags & 3), value: this.str(off[k + 2]!, off[k + 3]!, flags >> 2) });
    }
    const labels = this.sortUnique(out);
    return this.hasExTs ? { labels, value: this.exVal, ts: this.exTs } : { labels, value: this.exVal };
  }

  isCreated(): boolean {
    return this.format === 'openmetrics-text' && isCreatedName(this.metricName(), this.curType);
  }

  seriesType(): MetricType {
    if (this.curTypeFamily === '') return 'unknown';
    return isSeriesOfFamily(this.metricName(), this.curTypeFamily, this.curType) ? this.curType : 'unknown';
  }

  family(): string {
    return this.str(this.metaStart, this.metaEnd, this.metaFlags);
  }

  type(): MetricType {
    return this.entryType;
  }

  unit(): string {
    return this.b.toString('utf8', this.textStart, this.textEnd);
  }

  /** `le="1"` → `le="1.0"`, as Prometheus 3 normalises classic histogram and summary label values. */
  private normalizeFloat(v: string): string {
    // Bucket bounds repeat on every histogram of a body, so the float formatting is cached.
    let out = this.normalized.get(v);
    if (out === undefined) {
      const f = parseFloatString(v);
      out = f === undefined ? v : formatOpenMetricsFloat(f);
      if (this.normalized.size < NORMALIZED_CACHE_LIMIT) this.normalized.set(v, out);
    }
    return out;
  }

  /** Records the metadata family name token, without quotes. */
  protected setMetaName(): void {
    const lx = this.lx;
    let s = lx.start;
    let e = lx.i;
    if (this.b[s] === 34) {
      s++;
      e--;
    }
    this.metaStart = s;
    this.metaEnd = e;
    this.metaFlags = this.tokFlags();
    this.checkUtf8(s, e, this.metaFlags, 'metric name');
  }
}

/** Distinct `le`/`quantile` values remembered per body; a target has a few dozen at most. */
const NORMALIZED_CACHE_LIMIT = 1024;
