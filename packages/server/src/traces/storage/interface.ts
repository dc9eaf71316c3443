/**
 * The trace storage seam. OTLP ingest depends on {@link TraceAppendable}; TraceQL and the Tempo and
 * Jaeger APIs on {@link TraceQueryable}; only the wiring module builds a concrete store. Every
 * implementation (the in-memory one, the disk store) passes the same contract suite
 * (testkit/contracts/trace_storage.ts). Times are nanoseconds since the epoch.
 */
import type { AttributeValue, Span } from './types.js';

/** The result of an append: how many spans were kept, and why the others were refused. */
export interface TraceAppendResult {
  readonly accepted: number;
  readonly rejected: number;
  /** One message per distinct refusal reason (deduplicated), naming the limit or bound. */
  readonly reasons: string[];
}

/**
 * The request body a batch was decoded from, given with the batch when every span of the body is in
 * it, in the body's order: a store may log these bytes as they came instead of encoding the spans
 * again (the disk store's WAL does, when it keeps the whole batch), and decode them at replay.
 */
export interface TraceSource {
  /** An ExportTraceServiceRequest, decompressed: binary protobuf or OTLP/JSON. */
  readonly encoding: 'otlp-protobuf' | 'otlp-json';
  readonly bytes: Buffer;
}

/** Takes spans. */
export interface TraceAppendable {
  /**
   * Appends spans (any traces, any order). Spans the store refuses (too far ahead of the clock,
   * past retention, over a per-trace limit) are counted in the result; the rest are in the WAL when
   * this returns. Throws a StorageError when nothing could be written ('disk_full', 'closed').
   * `source`, when given, decodes to exactly `spans` (see {@link TraceSource}).
   */
  append(spans: readonly Span[], source?: TraceSource): TraceAppendResult;
  /** Why appends are being refused (a full disk, an I/O error), or undefined while they succeed. */
  writeProblem(): string | undefined;
}

/** A scalar attribute value a search can ask for by equality. */
export type ScalarValue = string | number | boolean;

/**
 * A candidate search. A trace qualifies when its time span (earliest start to latest end) overlaps
 * [start, end) and, for each hint given, some span of it satisfies that hint. The hints let a store
 * skip whole blocks (blooms) and read nothing of them; the caller (TraceQL) still applies its own
 * filter, so a hint may be less precise than the query, never more.
 */
export interface TraceSearch {
  readonly start: bigint;
  readonly end: bigint;
  /** resource service.name of some span. */
  readonly service?: string;
  /** Name of some span. */
  readonly spanName?: string;
  /** Each: some span (or its resource) has attribute `key` equal to `value`. */
  readonly attributes?: readonly { key: string; value: ScalarValue }[];
  /** At most this many traces (default: no limit). */
  readonly limit?: number;
}

/** Where an attribute lives: on the span or on its resource. */
export type TagScope = 'span' | 'resource';

/** Answers questions about stored spans. Ranges are [start, end) in nanoseconds; absent means all. */
export interface TraceQueryable {
  /** Every span of the trace (any order); [] for an unknown id. `traceId` is 32 lowercase hex digits. */
  trace(traceId: string): Span[];
  /**
   * The traces that qualify for `q`, each as all its spans, newest first (by the trace's earliest
   * span start; ties by trace id), at most `q.limit`. A pull iterator: a trace is read only when
   * the caller asks for it, so stopping early costs nothing more. In the disk store a trace whose
   * spans a block cut split is placed by its newest part, and its hints are checked per part (a
   * trace whose hints are only met by different parts may be missed).
   */
  search(q: TraceSearch): Iterable<Span[]>;
  /** Sorted attribute names of the scope (both scopes when absent) on spans in the range. */
  tagNames(scope?: TagScope, start?: bigint, end?: bigint): string[];
  /** Sorted distinct scalar values of attribute `name` in the scope (both when absent). */
  tagValues(name: string, scope?: TagScope, start?: bigint, end?: bigint): ScalarValue[];
  /** Sorted service names (resource service.name). */
  services(start?: bigint, end?: bigint): string[];
  /** Sorted span names of the service's spans. */
  operations(service: string, start?: bigint, end?: bigint): string[];
}

/** A complete trace store: both sides of the seam. */
export type TraceStorage = TraceAppendable & TraceQueryable;

/** Orders scalar values: numbers, then booleans, then strings, each ascending. */
export function compareScalars(a: ScalarValue, b: ScalarValue): number {
  const rank = (v: ScalarValue): number => (typeof v === 'number' ? 0 : typeof v === 'boolean' ? 1 : 2);
  const d = rank(a) - rank(b);
  if (d !== 0) return d;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True for a value a search hint or a tag value listing can hold. */
export function isScalar(v: AttributeValue): v is ScalarValue {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}
