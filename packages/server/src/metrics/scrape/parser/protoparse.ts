/**
 * The Prometheus protobuf exposition format (`application/vnd.google.protobuf;
 * proto=io.prometheus.client.MetricFamily;encoding=delimited`) as entries of the text parsers'
 * interface, as Prometheus' protobuf parser presents it: per family a help, a unit (when set) and a
 * type entry, then its series. Summaries and classic histograms become their `_count`, `_sum` and
 * `quantile`/`_bucket{le}` series (a `+Inf` bucket added when the body has none); a histogram
 * with native fields (a span, a zero threshold or a zero count) becomes a `histogram` entry when
 * native histograms are scraped, followed by its classic series only when those are asked for as
 * well. With NHCB conversion, a classic-only histogram becomes a custom-buckets histogram entry.
 *
 * Series keys are made from the raw bytes of a metric's LabelPair messages, so a series the loop
 * knows costs no label decoding; there is no key text in the body to point into, so the loop's
 * known-key fast path of the text formats does not apply: {@link nextExpecting} is {@link next}.
 */
import type { FloatHistogram } from '../../../core/model/histogram.js';
import { METRIC_NAME, type Label, type Labels } from '../../../core/model/labels.js';
import { byteError, ExpositionError } from './errors.js';
import { formatOpenMetricsFloat } from './float.js';
import {
  decodeFamily,
  decodeLabels,
  decodeMetric,
  emptyPbHistogram,
  toExemplar,
  type PbExemplar,
  type PbFamily,
  type PbHistogram,
  type PbMetric,
} from './metricfamily.js';
import { customBuckets, isNative, nativeExemplars, nativeHistogram } from './proto_histogram.js';
import type { EntryKind, Exemplar, ExpositionParser, MetricType } from './types.js';

/** What the scrape configuration asks of histograms (Prometheus' names in the comments). */
export interface ProtobufParserOptions {
  /** `scrape_native_histograms`: histograms with native fields become histogram entries. */
  readonly nativeHistograms?: boolean;
  /** `always_scrape_classic_histograms`: a native histogram's classic buckets become series too. */
  readonly keepClassicHistograms?: boolean;
  /** `convert_classic_histograms_to_nhcb`: a classic-only histogram becomes a custom-buckets histogram. */
  readonly convertClassicToNhcb?: boolean;
}

interface Entry {
  readonly kind: 'series' | 'histogram';
  /** Metric name with its suffix (`_count`, `_sum`, `_bucket`). */
  readonly name: string;
  /** `le` or `quantile`. */
  readonly extra: Label | undefined;
  readonly value: number;
  readonly hist: FloatHistogram | undefined;
  readonly exemplar: PbExemplar | undefined;
  readonly exemplars: readonly PbExemplar[];
}

const FAMILY_TYPES: Readonly<Record<PbFamily['type'], MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  summary: 'summary',
  untyped: 'unknown',
  histogram: 'histogram',
  gaugehistogram: 'gaugehistogram',
};

/** The length of a series key's part, so no label value can imitate a separator. */
const part = (s: string): string => `${s.length}:${s}`;

/** Pulls entries from a body of varint-length-delimited MetricFamily messages. */
export class ProtobufParser implements ExpositionParser {
  readonly format = 'prometheus-protobuf' as const;
  private readonly b: Buffer;
  private readonly opts: ProtobufParserOptions;
  private pos = 0;
  private fam: PbFamily | undefined;
  private famAt = 0;
  private metricIdx = 0;
  /** Pending metadata entries of the current family. */
  private meta: Array<'help' | 'unit' | 'type'> = [];
  private metric: PbMetric | undefined;
  /** The buffer of the current family. */
  private famBuf: Buffer = Buffer.alloc(0);
  /** The buffer of the current metric (label offsets point into it). */
  private metricBuf: Buffer = Buffer.alloc(0);
  /** The current metric's LabelPair bytes as key text, each after its length. */
  private metricKey = '';
  /** The current metric's labels, once decoded. */
  private metricLabels: Label[] | undefined;
  private entries: Entry[] = [];
  private entryIdx = 0;
  private cur: Entry | undefined;
  private curLabels: Labels | undefined;

  constructor(body: Buffer, opts: ProtobufParserOptions = {}) {
    this.b = body;
    this.opts = opts;
  }

  next(): EntryKind {
    this.curLabels = undefined;
    for (;;) {
      const m = this.meta.shift();
      if (m !== undefined) return m;
      if (this.entryIdx < this.entries.length) {
        this.cur = this.entries[this.entryIdx++]!;
        return this.cur.kind;
      }
      if (this.fam !== undefined && this.metricIdx < this.fam.metricSpans.length) {
        const spans = this.fam.metricSpans;
        const buf = this.famBuf.subarray(spans[this.metricIdx]!, spans[this.metricIdx + 1]!);
        this.metricIdx += 2;
        this.loadMetric(
          buf,
          decodeMetric(buf, (detail) => this.error(`in a metric of ${JSON.stringify(this.fam!.name)}: ${detail}`)),
        );
        continue;
      }
      if (this.pos >= this.b.length) return 'eof';
      this.readFamily();
    }
  }

  nextExpecting(): EntryKind {
    return this.next();
  }

  seriesKnown(): boolean {
    return false;
  }

  seriesKey(): string {
    const e = this.entry();
    // '\xff' first: a text key is latin1 of UTF-8 bytes, which never holds U+00FF, so the two kinds never collide.
    return `\xff${part(e.name)}${this.metricKey}${e.extra ? part(e.extra.name) + part(e.extra.value) : ''}`;
  }

  seriesKeyEquals(): boolean {
    return false;
  }

  seriesKeyStart(): number {
    return 0;
  }

  seriesKeyEnd(): number {
    return 0;
  }

  metricName(): string {
    return this.entry().name;
  }

  labels(): Labels {
    if (this.curLabels) return this.curLabels;
    const e = this.entry();
    this.metricLabels ??= decodeLabels(this.metricBuf, this.metric!, (detail) =>
      this.error(`in a label of metric ${JSON.stringify(this.fam!.name)}: ${detail}`),
    );
    const out: Label[] = [{ name: METRIC_NAME, value: e.name }, ...this.metricLabels];
    if (e.extra) out.push(e.extra);
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (let i = 1; i < out.length; i++) {
      if (out[i]!.name === out[i - 1]!.name)
        throw this.error(`duplicate label name ${JSON.stringify(out[i]!.name)} in metric ${JSON.stringify(this.fam!.name)}`);
    }
    for (const l of out) if (l.name === '') throw this.error(`empty label name in metric ${JSON.stringify(this.fam!.name)}`);
    return (this.curLabels = out);
  }

  value(): number {
    return this.entry().value;
  }

  timestamp(): number | undefined {
    this.entry();
    const ts = this.metric!.timestampMs;
    return ts === 0 ? undefined : ts;
  }

  exemplar(): Exemplar | undefined {
    const ex = this.entry().exemplar;
    return ex ? toExemplar(ex) : undefined;
  }

  histogram(): FloatHistogram {
    const h = this.entry().hist;
    if (!h) throw new Error('histogram() called on a float series');
    return h;
  }

  histogramExemplars(): readonly Exemplar[] {
    return this.entry().exemplars.map(toExemplar);
  }

  createdTimestamp(): number | undefined {
    this.entry();
    const m = this.metric!;
    const t = this.fam!.type;
    if (t === 'counter') return m.counterCreated;
    if (t === 'summary') return m.summary?.created;
    if (t === 'histogram' || t === 'gaugehistogram') return m.histogram?.created;
    return undefined;
  }

  isCreated(): boolean {
    return false;
  }

  seriesType(): MetricType {
    return FAMILY_TYPES[this.fam!.type];
  }

  family(): string {
    return this.fam!.name;
  }

  help(): string {
    return this.fam!.help;
  }

  type(): MetricType {
    return FAMILY_TYPES[this.fam!.type];
  }

  unit(): string {
    return this.fam!.unit;
  }

  private entry(): Entry {
    if (!this.cur) throw new Error('no series entry');
    return this.cur;
  }

  private error(detail: string): ExpositionError {
    return byteError(this.famAt, detail);
  }

  /** Why the current family's histogram is invalid, as a scrape error. */
  private readonly histogramError = (detail: string): ExpositionError => this.error(`invalid histogram ${JSON.stringify(this.fam!.name)}: ${detail}`);

  /** Reads the next delimited MetricFamily; families without metrics are passed over, as in Prometheus. */
  private readFamily(): void {
    const b = this.b;
    const at = this.pos;
    let len = 0;
    let mul = 1;
    let i = at;
    for (;;) {
      if (i >= b.length) throw byteError(at, 'truncated varint: the body ends inside the length of a MetricFamily');
      if (i - at >= 10) throw byteError(at, 'invalid varint: the length of a MetricFamily runs past 10 bytes');
      const c = b[i++]!;
      len += (c & 0x7f) * mul;
      mul *= 128;
      if (c < 0x80) break;
    }
    if (i + len > b.length) throw byteError(at, `MetricFamily of ${len} bytes runs past the end of the body (${b.length - i} bytes left)`);
    this.famAt = at;
    this.pos = i + len;
    const famBuf = b.subarray(i, i + len);
    const fam = decodeFamily(famBuf, (detail) => byteError(at, `in the MetricFamily starting here: ${detail}`));
    this.famBuf = famBuf;
    this.fam = undefined;
    this.metricIdx = 0;
    if (fam.metricSpans.length === 0) return;
    if (fam.name === '') throw byteError(at, 'MetricFamily without a name');
    checkUnit(fam, at);
    this.fam = fam;
    this.meta = fam.unit !== '' ? ['help', 'unit', 'type'] : ['help', 'type'];
  }

  /** Turns one Metric into its entries. */
  private loadMetric(buf: Buffer, m: PbMetric): void {
    const fam = this.fam!;
    this.metric = m;
    this.metricBuf = buf;
    let key = '';
    const spans = m.labelSpans;
    // Raw bytes, each pair after its length: the same bytes are the same labels, and no label is decoded to find a known series.
    for (let i = 0; i < spans.length; i += 2) key += `${spans[i + 1]! - spans[i]!}:${buf.toString('latin1', spans[i]!, spans[i + 1]!)}`;
    this.metricKey = key;
    this.metricLabels = undefined;
    const out: Entry[] = [];
    this.entries = out;
    this.entryIdx = 0;
    const name = fam.name;
    switch (fam.type) {
      case 'counter':
        out.push(series(name, undefined, m.counter, m.counterExemplar));
        break;
      case 'gauge':
        out.push(series(name, undefined, m.gauge, undefined));
        break;
      case 'untyped':
        out.push(series(name, undefined, m.untyped, undefined));
        break;
      case 'summary': {
        const s = m.summary;
        out.push(series(name + '_count', undefined, s?.sampleCount ?? 0, undefined));
        out.push(series(name + '_sum', undefined, s?.sampleSum ?? 0, undefined));
        for (const q of s?.quantiles ?? []) out.push(series(name, { name: 'quantile', value: formatOpenMetricsFloat(q.quantile) }, q.value, undefined));
        break;
      }
      default:
        this.histogramEntries(m.histogram ?? emptyPbHistogram(), fam.type === 'gaugehistogram', out);
    }
  }

  private histogramEntries(h: PbHistogram, gauge: boolean, out: Entry[]): void {
    const name = this.fam!.name;
    const native = this.opts.nativeHistograms === true && isNative(h);
    if (native) {
      out.push(histEntry(name, nativeHistogram(h, gauge, this.histogramError), nativeExemplars(h)));
      if (!this.opts.keepClassicHistograms || h.buckets.length === 0) return;
    } else if (this.opts.convertClassicToNhcb) {
      out.push(histEntry(name, customBuckets(h, gauge, this.histogramError), nativeExemplars(h)));
      if (!this.opts.keepClassicHistograms) return;
    }
    const count = h.sampleCountFloat > 0 ? h.sampleCountFloat : h.sampleCount;
    out.push(series(name + '_count', undefined, count, undefined));
    out.push(series(name + '_sum', undefined, h.sampleSum, undefined));
    const bucketName = name + '_bucket';
    for (const bk of h.buckets) {
      const v = bk.cumulativeCountFloat > 0 ? bk.cumulativeCountFloat : bk.cumulativeCount;
      out.push(series(bucketName, { name: 'le', value: formatOpenMetricsFloat(bk.upperBound) }, v, bk.exemplar));
      // Buckets after +Inf are not read, as in Prometheus.
      if (bk.upperBound === Infinity) return;
    }
    out.push(series(bucketName, { name: 'le', value: '+Inf' }, count, undefined));
  }
}

function series(name: string, extra: Label | undefined, value: number, exemplar: PbExemplar | undefined): Entry {
  return { kind: 'series', name, extra, value, hist: undefined, exemplar, exemplars: [] };
}

function histEntry(name: string, hist: FloatHistogram, exemplars: readonly PbExemplar[]): Entry {
  return { kind: 'histogram', name, extra: undefined, value: NaN, hist, exemplar: undefined, exemplars };
}

/** Prometheus 3's check that a family's unit ends its name (before `_total` for a counter). */
function checkUnit(fam: PbFamily, at: number): void {
  const unit = fam.unit;
  if (unit === '') return;
  let name = fam.name;
  if (fam.type === 'counter' && name.endsWith('_total')) name = name.slice(0, -6);
  if (!name.endsWith('_' + unit)) throw byteError(at, `unit ${JSON.stringify(unit)} not a suffix of metric ${JSON.stringify(fam.name)}`);
}
