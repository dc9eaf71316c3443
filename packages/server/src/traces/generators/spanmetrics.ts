/**
 * Span metrics as Tempo's metrics-generator writes them: per service, span name, kind and status
 * (and configured dimensions), the calls, a latency histogram in seconds and the bytes of spans.
 */
import type { Span } from '../storage/types.js';
import { attrText, durationSeconds, kindLabel, serviceOf, spanSizeBytes, statusLabel } from './attrs.js';
import { labelNameOf } from './config.js';
import { observe, type CounterSeries, type GeneratorRegistry, type HistogramSeries } from './registry.js';

export const CALLS = 'traces_spanmetrics_calls_total';
export const LATENCY = 'traces_spanmetrics_latency';
export const SIZE = 'traces_spanmetrics_size_total';

interface Entry {
  calls: CounterSeries;
  size: CounterSeries;
  latency: HistogramSeries;
}

export class SpanMetrics {
  private readonly dims: { attr: string; label: string }[];
  /** The three series of a label set, by its key: one lookup per span instead of three. */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly reg: GeneratorRegistry,
    dimensions: readonly string[],
    private readonly buckets: readonly number[],
  ) {
    this.dims = dimensions.map((attr) => ({ attr, label: labelNameOf(attr) }));
  }

  private entry(s: Span): Entry | undefined {
    const service = serviceOf(s);
    let key = `${service}\u0000${s.name}\u0000${s.kind}\u0000${s.status.code}`;
    const dimValues = this.dims.length ? this.dims.map((d) => attrText(s, d.attr) ?? '') : undefined;
    if (dimValues) key += `\u0000${dimValues.join('\u0000')}`;
    const found = this.entries.get(key);
    // A stale entry was dropped by the registry at a flush: the label set starts again from zero.
    if (found && !found.calls.expired) return found;
    const labels = (): Record<string, string> => {
      const l: Record<string, string> = { service, span_name: s.name, span_kind: kindLabel(s.kind), status_code: statusLabel(s.status.code) };
      // An absent dimension is an empty value, which the sink drops (Prometheus reads it as no label).
      this.dims.forEach((d, i) => (l[d.label] = dimValues![i]!));
      return l;
    };
    // The three series come or are refused together; a refused label set is asked for (and counted) again next time.
    if (!this.reg.admit(2 + this.buckets.length + 3)) return undefined;
    const e = {
      calls: this.reg.counter(CALLS, key, labels, true)!,
      size: this.reg.counter(SIZE, key, labels, true)!,
      latency: this.reg.histogram(LATENCY, this.buckets, key, labels, true)!,
    };
    this.entries.set(key, e);
    return e;
  }

  /** Forgets the entries whose series the registry dropped as stale, so the map does not keep them alive. */
  sweep(): void {
    for (const [key, e] of this.entries) if (e.calls.expired) this.entries.delete(key);
  }

  push(spans: readonly Span[]): void {
    const now = this.reg.stamp;
    for (const s of spans) {
      const e = this.entry(s);
      if (!e) continue;
      e.calls.seenAt = e.size.seenAt = e.latency.seenAt = now;
      e.calls.value++;
      e.size.value += spanSizeBytes(s);
      observe(e.latency, durationSeconds(s), s);
    }
  }
}
