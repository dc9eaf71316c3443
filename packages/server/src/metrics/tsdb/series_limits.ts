/**
 * Limits on new series in the head, named as Mimir names them (`max_global_series` is Mimir's
 * `max_global_series_per_user`). They bound the memory an ingest burst can take: a head past them
 * refuses new series, while samples of existing series keep flowing. WAL replay never checks them
 * (what was acknowledged is kept, even over a lowered limit).
 */
import { formatLabels, type Labels } from '../../core/model/labels.js';
import { StorageError } from '../../core/errors.js';

/** The limits; 0 turns one off. */
export interface SeriesLimits {
  /** Series in the head. */
  readonly maxGlobalSeries: number;
  /** Series in the head with one metric name. */
  readonly maxGlobalSeriesPerMetric: number;
  /** Labels of one series, `__name__` included. */
  readonly maxLabelNamesPerSeries: number;
  readonly maxLabelNameLength: number;
  readonly maxLabelValueLength: number;
  /** Why no series may be created now for lack of memory (core/util/heap), or undefined. */
  readonly memoryPressure?: () => string | undefined;
}

/** No limits: the head on its own (tests, the rule test runner) takes anything. */
export const NO_SERIES_LIMITS: SeriesLimits = {
  maxGlobalSeries: 0,
  maxGlobalSeriesPerMetric: 0,
  maxLabelNamesPerSeries: 0,
  maxLabelNameLength: 0,
  maxLabelValueLength: 0,
};

/** A new series refused by a limit; `limit` is the limit's configuration name. */
export class SeriesLimitError extends StorageError {
  constructor(
    readonly limit: string,
    message: string,
  ) {
    super('limit_exceeded', message);
  }
}

/** The metric name of a series ('' without one), found without allocating. */
export function metricName(labels: Labels): string {
  for (const l of labels) if (l.name === '__name__') return l.value;
  return '';
}

/**
 * Checks a series about to be created, given how many series the head holds and how many of them
 * have its metric name; throws a {@link SeriesLimitError} naming the limit.
 */
export function checkNewSeries(labels: Labels, limits: SeriesLimits, headSeries: number, metricSeries: () => number): void {
  const { maxLabelNamesPerSeries, maxLabelNameLength, maxLabelValueLength, maxGlobalSeries, maxGlobalSeriesPerMetric } = limits;
  if (maxLabelNamesPerSeries > 0 && labels.length > maxLabelNamesPerSeries) {
    throw new SeriesLimitError(
      'max_label_names_per_series',
      `series has ${labels.length} label names, more than max_label_names_per_series (${maxLabelNamesPerSeries}): ${shortLabels(labels)}`,
    );
  }
  for (const l of labels) {
    if (maxLabelNameLength > 0 && l.name.length > maxLabelNameLength) {
      throw new SeriesLimitError(
        'max_label_name_length',
        `label name of ${l.name.length} characters is longer than max_label_name_length (${maxLabelNameLength}): ${shortLabels(labels)}`,
      );
    }
    if (maxLabelValueLength > 0 && l.value.length > maxLabelValueLength) {
      throw new SeriesLimitError(
        'max_label_value_length',
        `value of label ${l.name} has ${l.value.length} characters, more than max_label_value_length (${maxLabelValueLength}): ${shortLabels(labels)}`,
      );
    }
  }
  const pressure = limits.memoryPressure?.();
  // Retryable (503 to remote_write senders): the refusal lifts once memory is freed.
  if (pressure !== undefined)
    throw new StorageError('overloaded', `new series ${shortLabels(labels)} refused: ${pressure}; existing series are still accepted`);
  if (maxGlobalSeries > 0 && headSeries >= maxGlobalSeries) {
    throw new SeriesLimitError(
      'max_global_series',
      `series limit max_global_series (${maxGlobalSeries}) reached: new series ${shortLabels(labels)} refused; existing series are still accepted`,
    );
  }
  if (maxGlobalSeriesPerMetric > 0 && metricSeries() >= maxGlobalSeriesPerMetric) {
    throw new SeriesLimitError(
      'max_global_series_per_metric',
      `per-metric series limit max_global_series_per_metric (${maxGlobalSeriesPerMetric}) reached for metric ${JSON.stringify(metricName(labels))}: new series ${shortLabels(labels)} refused; existing series are still accepted`,
    );
  }
}

/** The labels for a message, cut short: a refused series may be one with huge labels. */
function shortLabels(labels: Labels): string {
  const s = formatLabels(labels);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
