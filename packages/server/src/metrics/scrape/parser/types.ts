/** The shapes shared by the exposition-format parsers: entry kinds, metric types, exemplars. */
import type { FloatHistogram } from '../../../core/model/histogram.js';
import type { Labels } from '../../../core/model/labels.js';

/**
 * What {@link ExpositionParser.next} found. `eof` means the body is done and valid. `histogram` is
 * a series whose sample is a native histogram (protobuf exposition only); the series accessors
 * work for it, and {@link ExpositionParser.histogram} gives the sample.
 */
export const ENTRY_KINDS = ['series', 'histogram', 'help', 'type', 'unit', 'eof'] as const;
/** One of {@link ENTRY_KINDS}. */
export type EntryKind = (typeof ENTRY_KINDS)[number];

/**
 * Metric family types, as Prometheus names them. The text format's `untyped` is reported as
 * `unknown`, because Prometheus stores both the same way.
 */
export const METRIC_TYPES = ['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown'] as const;
/** One of {@link METRIC_TYPES}. */
export type MetricType = (typeof METRIC_TYPES)[number];

/** The supported exposition formats. */
export const EXPOSITION_FORMATS = ['prometheus-text', 'openmetrics-text', 'prometheus-protobuf'] as const;
/** The text formats, which share one lexer design and the loop's known-key fast path. */
export const TEXT_FORMATS = ['prometheus-text', 'openmetrics-text'] as const;
/** One of {@link EXPOSITION_FORMATS}. */
export type ExpositionFormat = (typeof EXPOSITION_FORMATS)[number];

/** An OpenMetrics exemplar attached to a sample (`# {trace_id="…"} 1.0 1.5e9`). */
export interface Exemplar {
  /** The exemplar's own labels, sorted. */
  readonly labels: Labels;
  readonly value: number;
  /** Milliseconds since the epoch, when the exemplar carries a timestamp. */
  readonly ts?: number;
}

/**
 * A pull parser over one scrape body. Call {@link ExpositionParser.next} until it returns `eof`;
 * after each entry, read it through the accessors that belong to its kind. Nothing is allocated
 * for an entry until an accessor asks for it, so a scrape loop that recognises a series by
 * {@link ExpositionParser.seriesKey} never decodes its labels. Malformed input throws
 * `ExpositionError`; the caller should then discard everything parsed from this body.
 */
export interface ExpositionParser {
  /** The format this parser reads. */
  readonly format: ExpositionFormat;
  /** Advances to the next entry. Throws `ExpositionError` on malformed input. */
  next(): EntryKind;

  /**
   * Like {@link ExpositionParser.next}, for a caller that expects a series whose key it saw before
   * at `buf[start:end]` (the previous body, in the same order): when the next line starts with
   * exactly those bytes, the key is not lexed again and {@link ExpositionParser.seriesKnown} says
   * so. Accessors all still work; labels are then decoded only if asked for.
   */
  nextExpecting(buf: Buffer, start: number, end: number): EntryKind;
  /** Series: whether {@link ExpositionParser.nextExpecting} recognised this series' key by its bytes. */
  seriesKnown(): boolean;
  /** Series: the raw bytes of `name{labels}` as a latin1 string, stable across scrapes for the same series. */
  seriesKey(): string;
  /**
   * Series: whether the current series' key equals `buf[start:end]`, compared as bytes. Lets a
   * loop that expects the series of the previous scrape, in the same order, confirm it without
   * building a key string at all.
   */
  seriesKeyEquals(buf: Buffer, start: number, end: number): boolean;
  /** Series: the offsets of the current series' key in the body, `[start, end)`. */
  seriesKeyStart(): number;
  seriesKeyEnd(): number;
  /** Series: the metric name (unescaped, UTF-8). */
  metricName(): string;
  /** Series: the full label set including `__name__`, sorted. Throws `ExpositionError` on duplicate names. */
  labels(): Labels;
  /** Series: the sample value. */
  value(): number;
  /** Series: the timestamp in milliseconds, or undefined when the line has none. */
  timestamp(): number | undefined;
  /** Series: the exemplar of this sample, if any (OpenMetrics and protobuf). */
  exemplar(): Exemplar | undefined;
  /** Histogram entry: the native histogram sample. */
  histogram(): FloatHistogram;
  /** Histogram entry: its exemplars (each with a timestamp, as Prometheus requires of native histograms). */
  histogramExemplars(): readonly Exemplar[];
  /**
   * Series and histogram entries: the created timestamp in ms of a counter, summary or histogram,
   * when the protobuf body carries one (text formats: undefined; OpenMetrics gives `_created`
   * series instead).
   */
  createdTimestamp(): number | undefined;
  /** Series: true for an OpenMetrics `_created` sample of a counter, histogram or summary family. */
  isCreated(): boolean;
  /** Series: the type of the most recent `# TYPE` when this series belongs to that family, else `unknown`. */
  seriesType(): MetricType;

  /** Help, type and unit entries: the metric family name. */
  family(): string;
  /** Help entry: the unescaped help text. */
  help(): string;
  /** Type entry: the declared type. */
  type(): MetricType;
  /** Unit entry: the declared unit. */
  unit(): string;
}
