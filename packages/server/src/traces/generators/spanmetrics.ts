/**
 * Span metrics as Tempo's metrics-generator writes them: per service, span name, kind and status
 * (and configured dimensions), the calls, a latency histogram in seconds and the bytes of spans.
 */
import type { Span, SpanKind, StatusCode } from '../storage/types.js';
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

/** A kind and status code as one small number, the slot of an entry among its service's and span name's. */
const KIND_SLOT: Record<SpanKind, number> = { unspecified: 0, internal: 3, server: 6, client: 9, producer: 12, consumer: 15 };
const CODE_SLOT: Record<StatusCode, number> = { unset: 0, ok: 1, error: 2 };

export class SpanMetrics {
  private readonly dims: { attr: string; label: string }[];
  /** The three series of a label set, by its key: one lookup per span instead of three. */
  private readonly entries = new Map<string, Entry>();
  /**
   * Without dimensions, the same entries by service, then span name, then kind and status: lookups
   * of strings the decoder already interned, where the key text was a new string to build and hash
   * for every span.
   */
  private readonly byService = new Map<string, Map<string, (Entry | undefined)[]>>();

  constructor(
    private readonly reg: GeneratorRegistry,
    dimensions: readonly string[],
    private readonly buckets: readonly number[],
  ) {
    this.dims = dimensions.map((attr) => ({ attr, label: labelNameOf(attr) }));
  }

  private entry(s: Span): Entry | undefined {
    if (this.dims.length > 0) return this.keyedEntry(s, serviceOf(s));
    const service = serviceOf(s);
    const slot = KIND_SLOT[s.kind] + CODE_SLOT[s.status.code];
    const found = this.byService.get(service)?.get(s.name)?.[slot];
    if (found && !found.calls.expired) return found;
    const e = this.keyedEntry(s, service);
    // Only admitted label sets take room here: refused ones (over max_active_series) are asked for again.
    if (e) {
      let names = this.byService.get(service);
      if (!names) this.byService.set(service, (names = new Map()));
      let slots = names.get(s.name);
      if (!slots) names.set(s.name, (slots = []));
      slots[slot] = e;
    }
    return e;
  }

  private keyedEntry(s: Span, service: string): Entry | undefined {
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
    for (const [service, names] of this.byService) {
      for (const [name, slots] of names) {
        slots.forEach((e, i) => {
          if (e?.calls.expired) slots[i] = undefined;
        });
        if (!slots.some((e) => e)) names.delete(name);
      }
      if (names.size === 0) this.byService.delete(service);
    }
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
