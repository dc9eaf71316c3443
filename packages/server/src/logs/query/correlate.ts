/** Correlation: every line carrying one request or trace id, across all streams and services. */
import type { Labels } from '../../core/model/labels.js';
import type { LogQueryable } from '../storage/interface.js';
import type { LogEntry } from '../storage/types.js';
import { safeTokens } from '../../core/util/bloom.js';
import { lineFields } from './fields.js';

/** The field names that carry an id unless the caller names others. */
export const DEFAULT_ID_FIELDS: readonly string[] = ['request_id', 'requestId', 'trace_id', 'traceId', 'reqId'];

/** One correlated line and its stream. */
export interface CorrelatedLine {
  readonly stream: Labels;
  readonly entry: LogEntry;
}

/** True when the line's structured metadata or parsed fields (JSON, logfmt) have one of `fields` equal to `id`. */
export function carriesId(e: LogEntry, id: string, fields: readonly string[]): boolean {
  const carries = (name: string, value: string): boolean => value === id && fields.includes(name);
  return (e.meta?.some((m) => carries(m.name, m.value)) ?? false) || lineFields(e.line).some(([k, v]) => carries(k, v));
}

/** Oldest first. */
export function byTime(a: CorrelatedLine, b: CorrelatedLine): number {
  return a.entry.t < b.entry.t ? -1 : a.entry.t > b.entry.t ? 1 : 0;
}

/**
 * The lines in [start, end) (ns) whose structured metadata or parsed fields have one of
 * `fields` equal to `id`, oldest first, at most `limit`.
 */
export function correlate(
  store: LogQueryable,
  id: string,
  start: bigint,
  end: bigint,
  fields: readonly string[] = DEFAULT_ID_FIELDS,
  limit = 1000,
): CorrelatedLine[] {
  // The id is a whole value, so all its tokens must be in a chunk's bloom filter.
  const hint = { tokens: safeTokens(id, true), needle: id };
  const out: CorrelatedLine[] = [];
  for (const s of store.selectStreams([], start, end))
    for (const e of store.entries(s, start, end, 'forward', hint)) if (carriesId(e, id, fields)) out.push({ stream: s.labels, entry: e });
  out.sort(byTime);
  return out.slice(0, limit);
}
