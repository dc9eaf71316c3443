/**
 * Recording rules, after Prometheus' `rules/recording.go`: the result of the expression, renamed
 * and relabelled, becomes samples of new series written back through the Appendable.
 */
import { labelsKey, METRIC_NAME, sortLabels } from '../../core/model/labels.js';
import { resultToVector, type QueryFn, type RuleHealth, type RuleSample } from './types.js';

/** A recording rule. */
export class RecordingRule {
  readonly kind = 'recording' as const;
  health: RuleHealth = 'unknown';
  lastError = '';
  lastEvaluation = 0;
  evaluationMs = 0;

  constructor(
    readonly name: string,
    readonly expr: string,
    /** Rule labels with group labels merged in. */
    readonly labels: Readonly<Record<string, string>>,
  ) {}

  /** A key that is equal for rules Prometheus would treat as the same on reload. */
  identity(): string {
    return JSON.stringify(['record', this.name, this.expr, this.labels]);
  }

  /** Takes over health and timing of the same rule from before a reload. */
  copyState(from: RecordingRule): void {
    this.health = from.health;
    this.lastError = from.lastError;
    this.lastEvaluation = from.lastEvaluation;
    this.evaluationMs = from.evaluationMs;
  }

  /** Evaluates at `ts - queryOffset`; throws on a query error, a label collision or the limit. */
  async eval(ts: number, queryOffsetMs: number, query: QueryFn, limit: number, signal?: AbortSignal): Promise<RuleSample[]> {
    const t = ts - queryOffsetMs;
    const vector = resultToVector(await query(this.expr, t, signal));
    const out: RuleSample[] = [];
    const seen = new Set<string>();
    for (const s of vector) {
      // The TSDB cannot keep histogram samples durably yet: refuse rather than record NaN.
      if (s.histogram) throw new Error('recording native histogram samples is not supported yet');
      const lb = new Map<string, string>();
      for (const l of s.metric) lb.set(l.name, l.value);
      lb.set(METRIC_NAME, this.name);
      for (const [k, v] of Object.entries(this.labels)) lb.set(k, v);
      const metric = sortLabels([...lb].filter(([, v]) => v !== '').map(([name, value]) => ({ name, value })));
      const k = labelsKey(metric);
      if (seen.has(k)) throw new Error('vector contains metrics with the same labelset after applying rule labels');
      seen.add(k);
      out.push({ metric, t, v: s.v });
    }
    if (limit > 0 && out.length > limit) throw new Error(`exceeded limit of ${limit} with ${out.length} series`);
    return out;
  }

  /** For logs and errors. */
  toString(): string {
    return `record: ${this.name} expr: ${this.expr}`;
  }
}
