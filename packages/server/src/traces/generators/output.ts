/**
 * What the metrics generator hands out, and to whom. The generator lives in traces/ and may not
 * import metrics/ (siblings); the wiring adapts this interface to the TSDB's Appendable (and, once
 * exemplar storage exists, to it). Labels are plain records so the receiver chooses its own form.
 */

/** One sample of a generated series: the metric name is the `__name__` label. */
export interface GeneratedSample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Its own time, ms, when not the flush's: a new series' starting zero. */
  readonly ts?: number;
}

/** The most recent span seen in one latency bucket, for a trace link from a histogram. */
export interface GeneratedExemplar {
  /** The bucket series (`…_bucket` with its `le`). */
  readonly labels: Readonly<Record<string, string>>;
  /** The span's duration in seconds. */
  readonly value: number;
  /** The span's end, ms since the epoch. */
  readonly ts: number;
  readonly traceId: string;
  readonly spanId: string;
}

/** Receives one flush: every live series at `ts` (counters cumulative since start), and the exemplars seen since the last flush. */
export interface GeneratorOutput {
  write(ts: number, samples: readonly GeneratedSample[], exemplars: readonly GeneratedExemplar[]): void;
}
