/**
 * How a trace is judged against a candidate search, shared by every store so they answer alike:
 * the trace's time span, each hint satisfied by some span, and the newest-first order.
 */
import type { ScalarValue, TraceSearch } from './interface.js';
import type { AttributeValue, Span } from './types.js';

/** A trace's identity, time span and order key, as a store's index keeps it. */
export interface TraceSummary {
  readonly traceId: string;
  /** Earliest span start. */
  readonly start: bigint;
  /** Latest span end. */
  readonly end: bigint;
}

/** The summary of a trace's spans (non-empty). */
export function summarize(spans: readonly Span[]): TraceSummary {
  let start = spans[0]!.startTimeUnixNano;
  let end = spans[0]!.endTimeUnixNano;
  for (const s of spans) {
    if (s.startTimeUnixNano < start) start = s.startTimeUnixNano;
    if (s.endTimeUnixNano > end) end = s.endTimeUnixNano;
  }
  return { traceId: spans[0]!.traceId, start, end };
}

/** True when [t.start, t.end] overlaps [start, end). */
export function overlaps(t: { start: bigint; end: bigint }, start: bigint | undefined, end: bigint | undefined): boolean {
  return (end === undefined || t.start < end) && (start === undefined || t.end >= start);
}

/** Newest first: by earliest start descending, then trace id ascending. */
export function newestFirst(a: TraceSummary, b: TraceSummary): number {
  if (a.start !== b.start) return a.start > b.start ? -1 : 1;
  return a.traceId < b.traceId ? -1 : a.traceId > b.traceId ? 1 : 0;
}

/** The service a span belongs to ('' when its resource names none). */
export function serviceOf(s: Span): string {
  const v = s.resource['service.name'];
  return typeof v === 'string' ? v : '';
}

function equalScalar(v: AttributeValue | undefined, want: ScalarValue): boolean {
  return v !== undefined && v === want;
}

/** True when some span satisfies each hint of `q` (the time range is checked apart). */
export function traceMatches(spans: readonly Span[], q: TraceSearch): boolean {
  if (q.service !== undefined && !spans.some((s) => serviceOf(s) === q.service)) return false;
  if (q.spanName !== undefined && !spans.some((s) => s.name === q.spanName)) return false;
  for (const a of q.attributes ?? []) {
    if (!spans.some((s) => equalScalar(s.attributes[a.key], a.value) || equalScalar(s.resource[a.key], a.value))) return false;
  }
  return true;
}
