/**
 * An in-memory trace store with the disk store's semantics (the same admission: clock bounds,
 * retention, spans per trace) and none of its machinery (no WAL, blocks or blooms). For tests and
 * anything that wants real trace storage without a directory. Nothing survives the process.
 */
import { TraceAdmission, type TraceAdmissionOptions } from './admission.js';
import type { ScalarValue, TagScope, TraceAppendResult, TraceSearch, TraceStorage } from './interface.js';
import { overlaps, traceMatches } from './match.js';
import { mergeSummaries, SpanTable, sortedValues } from './table.js';
import type { Span } from './types.js';

export class MemoryTraceStore implements TraceStorage {
  private readonly table = new SpanTable();
  private readonly admission: TraceAdmission;

  constructor(opts: TraceAdmissionOptions = {}) {
    this.admission = new TraceAdmission(opts);
  }

  append(spans: readonly Span[]): TraceAppendResult {
    const { kept, rejected, reasons } = this.admission.admit(spans, (id) => this.table.spansOf(id).length);
    this.table.add(kept);
    return { accepted: kept.length, rejected, reasons };
  }

  writeProblem(): string | undefined {
    return undefined;
  }

  trace(traceId: string): Span[] {
    return [...this.table.spansOf(traceId)];
  }

  *search(q: TraceSearch): Iterable<Span[]> {
    const found = mergeSummaries([this.table.candidates(q)]);
    const limit = q.limit ?? Infinity;
    let n = 0;
    for (const t of found) {
      if (n >= limit) return;
      const spans = this.trace(t.traceId);
      // Spans may have been appended since the candidates were taken: judge the trace as it is now.
      if (!overlaps(t, q.start, q.end) || !traceMatches(spans, q)) continue;
      n++;
      yield spans;
    }
  }

  tagNames(scope?: TagScope, start?: bigint, end?: bigint): string[] {
    const names = new Set<string>();
    this.table.tagNames(names, scope, start, end);
    return [...names].sort();
  }

  tagValues(name: string, scope?: TagScope, start?: bigint, end?: bigint): ScalarValue[] {
    const values = new Map<string, ScalarValue>();
    this.table.tagValues(values, name, scope, start, end);
    return sortedValues(values);
  }

  services(start?: bigint, end?: bigint): string[] {
    const ops = new Map<string, Set<string>>();
    this.table.operations(ops, start, end);
    return [...ops.keys()].sort();
  }

  operations(service: string, start?: bigint, end?: bigint): string[] {
    const ops = new Map<string, Set<string>>();
    this.table.operations(ops, start, end);
    return [...(ops.get(service) ?? [])].sort();
  }
}
