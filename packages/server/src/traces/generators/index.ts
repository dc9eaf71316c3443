/**
 * The metrics generator: span metrics and the service graph, computed from every batch of spans the
 * trace store accepted (after its WAL write) and handed to a {@link GeneratorOutput} on each flush.
 */
import type { Span } from '../storage/types.js';
import type { MetricsGeneratorOptions } from './config.js';
import type { GeneratorOutput } from './output.js';
import { endMs } from './attrs.js';
import { GeneratorRegistry } from './registry.js';
import { ServiceGraph } from './servicegraph.js';
import { SpanMetrics } from './spanmetrics.js';

export { defaultMetricsGeneratorOptions, type MetricsGeneratorOptions } from './config.js';
export type { GeneratedExemplar, GeneratedSample, GeneratorOutput } from './output.js';

export interface GeneratorStats {
  spans: number;
  /** Spans not counted: their end lay outside metrics_ingestion_time_range_slack of the clock. */
  discardedSpans: number;
  activeSeries: number;
  refusedSeries: number;
  /** Series dropped after `stale_duration` without a span. */
  expiredSeries: number;
  pendingEdges: number;
  flushes: number;
  /** Samples the output refused (out of order, invalid), summed over flushes. */
  failedSamples: number;
}

export class MetricsGenerator {
  private readonly reg: GeneratorRegistry;
  private readonly spanMetrics: SpanMetrics;
  private readonly graph: ServiceGraph;
  private spans = 0;
  private discarded = 0;
  private flushes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: MetricsGeneratorOptions,
    private readonly output: GeneratorOutput & { failed?: () => number },
    private readonly now: () => number = Date.now,
  ) {
    this.reg = new GeneratorRegistry(opts.maxActiveSeries, opts.staleMs);
    this.spanMetrics = new SpanMetrics(this.reg, opts.dimensions, opts.histogramBuckets);
    this.graph = new ServiceGraph(this.reg, opts.serviceGraph, now);
  }

  /** Takes spans the store accepted. */
  push(spans: readonly Span[]): void {
    if (!this.opts.enabled) return;
    this.spans += spans.length;
    const now = (this.reg.stamp = this.now());
    const slack = this.opts.ingestionSlackMs;
    if (slack > 0) {
      const kept = spans.filter((s) => Math.abs(endMs(s) - now) <= slack);
      this.discarded += spans.length - kept.length;
      spans = kept;
    }
    this.spanMetrics.push(spans);
    this.graph.push(spans);
  }

  /** Settles expired edges and writes every series at the current time; stale series a last time, as staleness markers. */
  flush(): void {
    if (!this.opts.enabled) return;
    const now = this.now();
    this.reg.stamp = now;
    this.graph.expire();
    const { samples, exemplars } = this.reg.collect(now);
    this.spanMetrics.sweep();
    this.flushes++;
    if (samples.length) this.output.write(now, samples, exemplars);
  }

  /** Flushes every `flushIntervalMs`. */
  start(): void {
    if (!this.opts.enabled || this.timer) return;
    this.timer = setInterval(() => this.flush(), this.opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes a last flush, so what was counted before shutdown is stored. */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  stats(): GeneratorStats {
    return {
      spans: this.spans,
      discardedSpans: this.discarded,
      activeSeries: this.reg.activeSeries(),
      refusedSeries: this.reg.refused,
      expiredSeries: this.reg.expiredSeries,
      pendingEdges: this.graph.pending(),
      flushes: this.flushes,
      failedSamples: this.output.failed?.() ?? 0,
    };
  }
}
