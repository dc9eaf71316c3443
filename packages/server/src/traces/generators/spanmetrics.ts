/**
 * Span metrics as Tempo's metrics-generator writes them: per service, span name, kind and status
 * (and configured dimensions), the calls, a latency histogram in seconds and the bytes of spans.
 */
import type { Span } from '../storage/types.js';
import { attrText, durationSeconds, endMs, kindLabel, serviceOf, spanSizeBytes, statusLabel } from './attrs.js';
import { labelNameOf } from './config.js';
import type { GeneratorRegistry } from './registry.js';

export const CALLS = 'traces_spanmetrics_calls_total';
export const LATENCY = 'traces_spanmetrics_latency';
export const SIZE = 'traces_spanmetrics_size_total';

export class SpanMetrics {
  private readonly dims: { attr: string; label: string }[];

  constructor(
    private readonly reg: GeneratorRegistry,
    dimensions: readonly string[],
    private readonly buckets: readonly number[],
  ) {
    this.dims = dimensions.map((attr) => ({ attr, label: labelNameOf(attr) }));
  }

  push(spans: readonly Span[]): void {
    for (const s of spans) {
      const labels: Record<string, string> = {
        service: serviceOf(s),
        span_name: s.name,
        span_kind: kindLabel(s.kind),
        status_code: statusLabel(s.status.code),
      };
      // Every dimension is in every key (empty when absent) so keys line up; the sink drops empty labels.
      for (const d of this.dims) labels[d.label] = attrText(s, d.attr) ?? '';
      this.reg.inc(CALLS, labels);
      this.reg.inc(SIZE, labels, spanSizeBytes(s));
      this.reg.observe(LATENCY, this.buckets, labels, durationSeconds(s), { ts: endMs(s), traceId: s.traceId, spanId: s.spanId });
    }
  }
}
