/**
 * Exemplars of the SDK's histograms: each bucket of each series keeps the newest observation made
 * inside a sampled span, as the span's trace and span id, its value and its time. They exist only in
 * OpenMetrics (the classic text format has no place for them), so the OpenMetrics renderer asks this
 * module for them by registry, metric and series; prom-client's own exemplar mode is not used because
 * it changes `observe`'s signature, drops the +Inf bucket's exemplar and counts UTF-16 units, not runes.
 */
import { context, INVALID_SPANID, INVALID_TRACEID, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import type { Registry } from 'prom-client';

/** OpenMetrics: an exemplar's label names and values together are at most 128 UTF-8 characters. */
export const EXEMPLAR_MAX_RUNES = 128;

/** One bucket's exemplar. */
export interface Exemplar {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Seconds since the epoch, with milliseconds. */
  readonly timestamp: number;
}

/** The length of a label set as OpenMetrics counts it: code points of every name and value. */
export function exemplarRunes(labels: Readonly<Record<string, string>>): number {
  let n = 0;
  // A string's iterator walks code points, so spreading counts runes rather than UTF-16 units.
  for (const [k, v] of Object.entries(labels)) n += [...k].length + [...v].length;
  return n;
}

/**
 * The exemplar labels of a span: `trace_id` and `span_id` (63 runes with W3C ids, inside the
 * 128-rune limit); undefined for an invalid or unsampled span (its trace is never exported, so a
 * link to it would lead nowhere).
 */
export function spanExemplarLabels(sc: SpanContext | undefined): Record<string, string> | undefined {
  // Checked on every observation, so without OpenTelemetry's regex validation: W3C ids are 32 and
  // 16 hex digits (the SDK's tracer only makes such), and all zeros means none.
  if (!sc || (sc.traceFlags & TraceFlags.SAMPLED) === 0) return undefined;
  if (sc.traceId.length !== 32 || sc.spanId.length !== 16 || sc.traceId === INVALID_TRACEID || sc.spanId === INVALID_SPANID) return undefined;
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

/** The span active in the current OpenTelemetry context, if any. */
export function activeSpanContext(): SpanContext | undefined {
  return trace.getSpanContext(context.active());
}

/** Exemplar slots of one histogram: per series (its label values, in label-name order), one per bucket and +Inf. */
export class HistogramExemplars {
  private readonly series = new Map<string, Array<Exemplar | undefined>>();
  /** Called with every observation; the OTLP export's exponential histograms listen here. */
  private readonly observers: Array<(labelValues: readonly string[], value: number) => void> = [];

  constructor(
    readonly labelNames: readonly string[],
    /** Upper bounds, ascending, without +Inf. */
    readonly buckets: readonly number[],
  ) {}

  /** Keeps `value` as its bucket's exemplar when `sc` is a sampled span; the newest replaces the last. */
  record(labelValues: readonly string[], value: number, sc: SpanContext | undefined): void {
    for (const o of this.observers) o(labelValues, value);
    const labels = spanExemplarLabels(sc);
    if (!labels || !Number.isFinite(value)) return;
    const key = labelValues.join('\u0000');
    let slots = this.series.get(key);
    if (!slots) this.series.set(key, (slots = new Array<Exemplar | undefined>(this.buckets.length + 1)));
    slots[this.bucketOf(value)] = { labels, value, timestamp: Date.now() / 1000 };
  }

  /**
   * Calls `fn` with each later observation of the histogram. Every SDK histogram records its
   * exemplar next to its observation, so this is the one place that sees them all.
   */
  onObserve(fn: (labelValues: readonly string[], value: number) => void): void {
    this.observers.push(fn);
  }

  /** The exemplar of the bucket whose `le` is given, for the series with these labels. */
  get(seriesLabels: Readonly<Record<string, string | number>>, le: string | number): Exemplar | undefined {
    const slots = this.series.get(this.labelNames.map((n) => String(seriesLabels[n] ?? '')).join('\u0000'));
    if (!slots) return undefined;
    const bound = Number(le);
    const i = bound === Infinity || le === '+Inf' ? this.buckets.length : this.buckets.indexOf(bound);
    return i < 0 ? undefined : slots[i];
  }

  /** The bucket an observation counts in first (the smallest bound ≥ value), or +Inf's slot. */
  private bucketOf(value: number): number {
    let lo = 0;
    let hi = this.buckets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.buckets[mid]! >= value) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

const byRegistry = new WeakMap<Registry, Map<string, HistogramExemplars>>();

/** Creates (or returns) the exemplar slots of histogram `name` on `registry`. */
export function histogramExemplars(registry: Registry, name: string, labelNames: readonly string[], buckets: readonly number[]): HistogramExemplars {
  let m = byRegistry.get(registry);
  if (!m) byRegistry.set(registry, (m = new Map()));
  let h = m.get(name);
  if (!h)
    m.set(
      name,
      (h = new HistogramExemplars(
        labelNames,
        [...buckets].sort((a, b) => a - b),
      )),
    );
  return h;
}

/** The exemplar slots of histogram `name` on `registry`, if it records any. */
export function exemplarsOf(registry: Registry, name: string): HistogramExemplars | undefined {
  return byRegistry.get(registry)?.get(name);
}

/** The histograms of `registry` that record exemplars (the SDK's own), by name. */
export function exemplarHistograms(registry: Registry): ReadonlyMap<string, HistogramExemplars> {
  return byRegistry.get(registry) ?? new Map();
}
