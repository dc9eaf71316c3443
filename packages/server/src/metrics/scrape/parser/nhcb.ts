/**
 * `convert_classic_histograms_to_nhcb` for the text formats: a parser over a text parser that
 * gathers the consecutive `_bucket`, `_count` and `_sum` series of one histogram (one family of
 * `# TYPE … histogram`, one label set besides `le`) and, when the group ends, gives a `histogram`
 * entry with custom buckets (schema −53), as Prometheus 3's NHCB parser does. The classic series
 * themselves are passed on only when they are kept (`always_scrape_classic_histograms`).
 *
 * Ending a group means reading the entry after it, which is then given next: the text parser is
 * still on it, so its accessors answer for it. The loop's known-key fast path is not used here (a
 * recognised key belongs to the position it was offered for, which a group shifts); the byte
 * comparison of {@link seriesKeyEquals} still saves label decoding.
 */
import type { FloatHistogram } from '../../../core/model/histogram.js';
import { METRIC_NAME, type Label, type Labels } from '../../../core/model/labels.js';
import { ExpositionError } from './errors.js';
import { emptyPbHistogram } from './metricfamily.js';
import { customBuckets } from './proto_histogram.js';
import type { EntryKind, Exemplar, ExpositionFormat, ExpositionParser, MetricType } from './types.js';

const SUFFIXES = ['_bucket', '_count', '_sum'] as const;

interface Group {
  readonly family: string;
  /** Family and labels besides `le`, as key text. */
  readonly key: string;
  /** Sorted, with `__name__` the family's name. */
  readonly labels: Labels;
  readonly ts: number | undefined;
  readonly buckets: Map<number, number>;
  count: number | undefined;
  sum: number | undefined;
}

/** A text parser whose classic histograms also come out as custom-bucket native histograms. */
export class NhcbParser implements ExpositionParser {
  readonly format: ExpositionFormat;
  private group: Group | undefined;
  /** An entry read from the inner parser to end a group, given after the group's histogram. */
  private pending: EntryKind | undefined;
  /** The histogram entry being given, with its group. */
  private hist: { group: Group; h: FloatHistogram } | undefined;

  constructor(
    private readonly inner: ExpositionParser,
    private readonly keepClassic: boolean,
  ) {
    this.format = inner.format;
  }

  next(): EntryKind {
    this.hist = undefined;
    for (;;) {
      let kind = this.pending;
      this.pending = undefined;
      kind ??= this.inner.next();
      // An OpenMetrics `_created` series of the histogram being gathered passes without ending it.
      if (kind === 'series' && this.group && this.inner.isCreated() && this.inner.seriesType() === 'histogram') return kind;
      const member = kind === 'series' ? this.membership() : undefined;
      if (this.group && (member === undefined || member.key !== this.group.key)) {
        this.hist = { group: this.group, h: this.finish(this.group) };
        this.group = undefined;
        this.pending = kind;
        return 'histogram';
      }
      if (member === undefined) return kind;
      this.add(member.family, member.key, member.suffix);
      if (this.keepClassic) return 'series';
    }
  }

  nextExpecting(): EntryKind {
    return this.next();
  }

  seriesKnown(): boolean {
    return false;
  }

  seriesKey(): string {
    // '\xff' first: no text key holds U+00FF, so a converted histogram never takes a series' cache entry.
    return this.hist ? `\xffnhcb\xff${this.hist.group.key}` : this.inner.seriesKey();
  }

  seriesKeyEquals(buf: Buffer, start: number, end: number): boolean {
    return this.hist === undefined && end > start && this.inner.seriesKeyEquals(buf, start, end);
  }

  seriesKeyStart(): number {
    return this.hist ? -1 : this.inner.seriesKeyStart();
  }

  seriesKeyEnd(): number {
    return this.hist ? -1 : this.inner.seriesKeyEnd();
  }

  metricName(): string {
    return this.hist ? this.hist.group.family : this.inner.metricName();
  }

  labels(): Labels {
    return this.hist ? this.hist.group.labels : this.inner.labels();
  }

  value(): number {
    return this.hist ? NaN : this.inner.value();
  }

  timestamp(): number | undefined {
    return this.hist ? this.hist.group.ts : this.inner.timestamp();
  }

  exemplar(): Exemplar | undefined {
    return this.hist ? undefined : this.inner.exemplar();
  }

  histogram(): FloatHistogram {
    if (!this.hist) return this.inner.histogram();
    return this.hist.h;
  }

  histogramExemplars(): readonly Exemplar[] {
    return this.hist ? [] : this.inner.histogramExemplars();
  }

  createdTimestamp(): number | undefined {
    return this.hist ? undefined : this.inner.createdTimestamp();
  }

  isCreated(): boolean {
    return this.hist ? false : this.inner.isCreated();
  }

  seriesType(): MetricType {
    return this.hist ? 'histogram' : this.inner.seriesType();
  }

  family(): string {
    return this.inner.family();
  }

  help(): string {
    return this.inner.help();
  }

  type(): MetricType {
    return this.inner.type();
  }

  unit(): string {
    return this.inner.unit();
  }

  /** The group the current series belongs to, when it is a classic histogram's series. */
  private membership(): { family: string; key: string; suffix: (typeof SUFFIXES)[number] } | undefined {
    const p = this.inner;
    if (p.seriesType() !== 'histogram' || p.isCreated()) return undefined;
    const name = p.metricName();
    const suffix = SUFFIXES.find((s) => name.endsWith(s));
    if (suffix === undefined) return undefined;
    const family = name.slice(0, -suffix.length);
    let key = `${family.length}:${family}`;
    for (const l of p.labels()) if (l.name !== METRIC_NAME && l.name !== 'le') key += `${l.name.length}:${l.name}${l.value.length}:${l.value}`;
    return { family, key, suffix };
  }

  private add(family: string, key: string, suffix: (typeof SUFFIXES)[number]): void {
    const p = this.inner;
    if (!this.group) {
      const labels: Label[] = p.labels().filter((l) => l.name !== 'le' && l.name !== METRIC_NAME);
      labels.push({ name: METRIC_NAME, value: family });
      labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.group = { family, key, labels, ts: p.timestamp(), buckets: new Map(), count: undefined, sum: undefined };
    }
    const g = this.group;
    if (suffix === '_count') g.count = p.value();
    else if (suffix === '_sum') g.sum = p.value();
    else {
      const le = p.labels().find((l) => l.name === 'le')?.value;
      const bound = le === undefined ? NaN : le === '+Inf' ? Infinity : Number(le);
      if (Number.isNaN(bound)) throw this.error(`bucket of histogram ${JSON.stringify(family)} without a numeric le label (${JSON.stringify(le ?? '')})`);
      g.buckets.set(bound, p.value());
    }
  }

  /** The group's custom-buckets histogram, built as the protobuf parser builds one from classic buckets. */
  private finish(g: Group): FloatHistogram {
    const bounds = [...g.buckets.keys()].sort((a, b) => a - b);
    const h = emptyPbHistogram();
    for (const upperBound of bounds) {
      const c = g.buckets.get(upperBound)!;
      h.buckets.push({ upperBound, cumulativeCount: c, cumulativeCountFloat: c, exemplar: undefined });
    }
    const count = g.count ?? g.buckets.get(Infinity) ?? g.buckets.get(bounds[bounds.length - 1]!) ?? 0;
    h.sampleCount = count;
    h.sampleCountFloat = count;
    h.sampleSum = g.sum ?? 0;
    return customBuckets(h, false, (detail) => this.error(`cannot convert histogram ${JSON.stringify(g.family)} to custom buckets: ${detail}`));
  }

  private error(detail: string): ExpositionError {
    return new ExpositionError(detail, 0, 0, `converting classic histograms: ${detail}`);
  }
}
