/**
 * Spans held in memory, grouped by trace: the whole of the in-memory store and the head of the
 * disk store (the spans not yet cut into a block). It answers every query of the seam over what it
 * holds; admission and durability are its owner's business.
 */
import { compareScalars, isScalar, type ScalarValue, type TagScope, type TraceSearch } from './interface.js';
import { newestFirst, overlaps, serviceOf, traceMatches, type TraceSummary } from './match.js';
import type { Span } from './types.js';

interface Held {
  traceId: string;
  start: bigint;
  end: bigint;
  spans: Span[];
}

export class SpanTable {
  private readonly traces = new Map<string, Held>();
  private count = 0;

  /** Spans held. */
  get spanCount(): number {
    return this.count;
  }

  /** Traces held. */
  get traceCount(): number {
    return this.traces.size;
  }

  add(spans: readonly Span[]): void {
    for (const s of spans) {
      let t = this.traces.get(s.traceId);
      if (!t) this.traces.set(s.traceId, (t = { traceId: s.traceId, start: s.startTimeUnixNano, end: s.endTimeUnixNano, spans: [] }));
      t.spans.push(s);
      if (s.startTimeUnixNano < t.start) t.start = s.startTimeUnixNano;
      if (s.endTimeUnixNano > t.end) t.end = s.endTimeUnixNano;
      this.count++;
    }
  }

  /** Drops everything (the disk store after cutting the head into a block). */
  clear(): void {
    this.traces.clear();
    this.count = 0;
  }

  /** Every trace held, as it is (callers must not change it). */
  all(): Iterable<{ readonly traceId: string; readonly start: bigint; readonly end: bigint; readonly spans: readonly Span[] }> {
    return this.traces.values();
  }

  spansOf(traceId: string): readonly Span[] {
    return this.traces.get(traceId)?.spans ?? [];
  }

  /** Summaries of the traces that qualify for `q` (unordered, unlimited). */
  candidates(q: TraceSearch): TraceSummary[] {
    const out: TraceSummary[] = [];
    for (const t of this.traces.values()) if (overlaps(t, q.start, q.end) && traceMatches(t.spans, q)) out.push(t);
    return out;
  }

  /** Adds the scope's tag names of spans in range to `into`. */
  tagNames(into: Set<string>, scope: TagScope | undefined, start?: bigint, end?: bigint): void {
    for (const s of this.spansIn(start, end)) {
      if (scope !== 'resource') for (const k in s.attributes) into.add(k);
      if (scope !== 'span') for (const k in s.resource) into.add(k);
    }
  }

  /** Adds the scalar values of tag `name` to `into` (keyed by type and value). */
  tagValues(into: Map<string, ScalarValue>, name: string, scope: TagScope | undefined, start?: bigint, end?: bigint): void {
    for (const s of this.spansIn(start, end)) {
      if (scope !== 'resource') addScalar(into, s.attributes[name]);
      if (scope !== 'span') addScalar(into, s.resource[name]);
    }
  }

  /** Adds service name → span names of spans in range to `into`. */
  operations(into: Map<string, Set<string>>, start?: bigint, end?: bigint): void {
    for (const s of this.spansIn(start, end)) {
      const svc = serviceOf(s);
      let ops = into.get(svc);
      if (!ops) into.set(svc, (ops = new Set()));
      ops.add(s.name);
    }
  }

  private *spansIn(start?: bigint, end?: bigint): Iterable<Span> {
    for (const t of this.traces.values()) {
      if (!overlaps(t, start, end)) continue;
      for (const s of t.spans) if (overlaps({ start: s.startTimeUnixNano, end: s.endTimeUnixNano }, start, end)) yield s;
    }
  }
}

function addScalar(into: Map<string, ScalarValue>, v: unknown): void {
  if (v === undefined || !isScalar(v as ScalarValue)) return;
  const s = v as ScalarValue;
  into.set(`${typeof s}:${String(s)}`, s);
}

/** The sorted values of a map filled by `tagValues`. */
export function sortedValues(m: Map<string, ScalarValue>): ScalarValue[] {
  return [...m.values()].sort(compareScalars);
}

/** Sorted, newest-first summaries, deduplicated by trace id (the widest time span wins). */
export function mergeSummaries(lists: readonly (readonly TraceSummary[])[]): TraceSummary[] {
  const by = new Map<string, TraceSummary>();
  for (const l of lists) {
    for (const t of l) {
      const had = by.get(t.traceId);
      by.set(t.traceId, had ? { traceId: t.traceId, start: had.start < t.start ? had.start : t.start, end: had.end > t.end ? had.end : t.end } : t);
    }
  }
  return [...by.values()].sort(newestFirst);
}
