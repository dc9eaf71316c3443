/**
 * Writes the trace metrics generator's flushes into the TSDB through its Appendable: one appender
 * per flush, committed whole. Empty label values are dropped (Prometheus reads them as absent).
 * Each latency bucket's exemplar (its newest span) goes to the exemplar storage, labelled
 * `trace_id` and `span_id` as OpenMetrics exemplars from instrumented services are.
 */
import { formatLabels, labelsFrom, type Labels } from '../../core/model/labels.js';
import type { Logger } from '../../core/util/log.js';
import type { ExemplarInput } from '../../metrics/exemplars/storage.js';
import type { Appendable } from '../../metrics/storage/interface.js';
import type { GeneratedExemplar, GeneratedSample, GeneratorOutput } from '../../traces/generators/index.js';

export class TsdbGeneratorSink implements GeneratorOutput {
  /** Label sets already built, by their record's values, so a flush does not sort every series again. */
  private readonly cache = new Map<string, Labels>();
  private failedSamples = 0;

  constructor(
    private readonly db: Appendable,
    private readonly logger: Logger,
    private readonly exemplarStore?: { append(batch: readonly ExemplarInput[]): unknown },
  ) {}

  private labelsOf(rec: Readonly<Record<string, string>>): Labels {
    const key = Object.entries(rec)
      .map(([k, v]) => `${k}\xff${v}`)
      .join('\xfe');
    let l = this.cache.get(key);
    if (!l) {
      const kept: Record<string, string> = {};
      for (const [k, v] of Object.entries(rec)) if (v !== '') kept[k] = v;
      this.cache.set(key, (l = labelsFrom(kept)));
    }
    return l;
  }

  write(ts: number, samples: readonly GeneratedSample[], exemplars: readonly GeneratedExemplar[]): void {
    const app = this.db.appender();
    let first: string | undefined;
    for (const s of samples) {
      const labels = this.labelsOf(s.labels);
      try {
        app.append(0, labels, s.ts ?? ts, s.value);
      } catch (err) {
        // One refused sample (an out-of-order time after a clock step, a label the TSDB refuses) leaves the rest of the flush usable.
        this.failedSamples++;
        first ??= `${formatLabels(labels)}: ${(err as Error).message}`;
      }
    }
    try {
      app.commit();
    } catch (err) {
      this.failedSamples += samples.length;
      this.logger.warn('trace metrics flush failed', { err: (err as Error).message });
      return;
    }
    if (first) this.logger.warn('trace metrics: samples refused', { first });
    if (exemplars.length && this.exemplarStore) this.storeExemplars(exemplars);
  }

  private storeExemplars(exemplars: readonly GeneratedExemplar[]): void {
    const batch = exemplars.map((e) => ({
      seriesLabels: this.labelsOf(e.labels),
      labels: labelsFrom({ trace_id: e.traceId, span_id: e.spanId }),
      value: e.value,
      ts: e.ts,
    }));
    try {
      this.exemplarStore!.append(batch);
    } catch (err) {
      // Exemplars are a pointer into the traces, not data of their own: a failed write loses only them.
      this.logger.warn('trace metrics: storing exemplars failed', { err: (err as Error).message });
    }
  }

  failed(): number {
    return this.failedSamples;
  }
}
