/**
 * The search driver: applies a compiled TraceQL query to candidate traces the caller supplies (a
 * store yields them, already narrowed with {@link hintsOf}) and answers with Tempo's search result
 * fields. It never holds the event loop: about every 5 ms of work it yields to it, and it stops
 * with the signal's reason as soon as the caller aborts.
 */
import type { Span } from '../storage/types.js';
import type { FieldExpr, FieldRef, PipelineElement, RootExpr } from './ast.js';
import { compilePipeline, type Spanset } from './eval.js';
import { anyValue, compileField, type FieldFn } from './fields.js';
import { parseTraceQL } from './parser.js';
import { spanDurationNanos, TraceView } from './trace_view.js';
import { parseErrorAt } from './lexer.js';
import { TimeSlicer } from '../../core/util/pace.js';

/** Tempo's placeholder while a trace's root span has not arrived. */
export const ROOT_NOT_YET_RECEIVED = '<root span not yet received>';

/** A query ready to run over traces, compiled once. */
export interface CompiledSearch {
  readonly root: RootExpr;
  /** The spansets the query yields from one trace (empty when the trace does not match). */
  evaluate(trace: readonly Span[]): Spanset[];
  /** The same over a trace already wrapped in a view. */
  run(tv: TraceView): Spanset[];
  /**
   * Fields a condition of the query reads, returned with each matched span as Tempo does: the
   * attributes, and the span intrinsics `status`, `kind` and `statusMessage` (name and duration
   * have fields of their own).
   */
  readonly conditionFields: readonly { key: string; fn: FieldFn }[];
}

/** Compiles a search query; a metrics query (`| rate()`) is refused here, it belongs to {@link queryRange}. */
export function compileSearch(query: string | RootExpr): CompiledSearch {
  const root = typeof query === 'string' ? parseTraceQL(query) : query;
  if (root.metrics !== null) {
    throw parseErrorAt(root.text, root.metrics.pos, `a metrics query (${root.metrics.fn}) cannot be used for search; use /api/metrics/query_range`);
  }
  const run = compilePipeline(root);
  const seen = new Set<string>();
  const conditionFields: { key: string; fn: FieldFn }[] = [];
  for (const ref of conditionRefs(root)) {
    const name = ref.t === 'attr' ? ref.name : ref.which;
    const key = ref.t === 'attr' ? `${ref.scope}:${name}` : name;
    if (seen.has(key)) continue;
    seen.add(key);
    conditionFields.push({ key: name, fn: compileField(ref, root.text) });
  }
  return { root, run, evaluate: (trace) => run(new TraceView(trace)), conditionFields };
}

const RETURNED_INTRINSICS: ReadonlySet<string> = new Set(['status', 'kind', 'statusMessage']);

function conditionRefs(root: RootExpr): FieldRef[] {
  const out: FieldRef[] = [];
  const field = (e: FieldExpr | null): void => {
    if (e === null) return;
    if (e.t === 'attr' || (e.t === 'intrinsic' && RETURNED_INTRINSICS.has(e.which))) out.push(e);
    else if (e.t === 'binary') {
      field(e.l);
      field(e.r);
    } else if (e.t === 'unary') field(e.e);
  };
  const spanset = (e: PipelineElement): void => {
    if (e.t === 'filter') field(e.expr);
    else if (e.t === 'op') {
      spanset(e.l);
      spanset(e.r);
    } else if (e.t === 'group') e.pipeline.elements.forEach(spanset);
  };
  root.pipeline.elements.forEach(spanset);
  return out;
}

export interface SearchOptions {
  /** Most traces to return (Tempo's default: 20). */
  readonly limit?: number;
  /** Most spans per spanset to return (`spss`, Tempo's default: 3). */
  readonly spss?: number;
  /** Only traces at least / at most this long (the trace's span from first start to last end). */
  readonly minDurationMs?: number;
  readonly maxDurationMs?: number;
  /** Only traces with a span in [start, end], nanoseconds since the epoch. */
  readonly startNanos?: bigint;
  readonly endNanos?: bigint;
  readonly signal?: AbortSignal;
  /** Work between two yields to the event loop, in ms (default 5). */
  readonly sliceMs?: number;
}

export interface SearchSpan {
  spanID: string;
  name: string;
  startTimeUnixNano: string;
  durationNanos: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

export interface SearchSpanSet {
  spans: SearchSpan[];
  matched: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** One trace of Tempo's search response. */
export interface TraceSearchMetadata {
  traceID: string;
  rootServiceName: string;
  rootTraceName: string;
  startTimeUnixNano: string;
  durationMs: number;
  /** The first spanset, kept by Tempo for older clients. */
  spanSet?: SearchSpanSet;
  spanSets: SearchSpanSet[];
  /** Spans and errored spans per service of the whole trace (`errorCount` left out when 0, as Tempo's JSON does). */
  serviceStats: Record<string, { spanCount: number; errorCount?: number }>;
}

export interface SearchResult {
  traces: TraceSearchMetadata[];
  metrics: { inspectedTraces: number; inspectedSpans: number };
}

function overlaps(tv: TraceView, start: bigint | undefined, end: bigint | undefined): boolean {
  if (start === undefined && end === undefined) return true;
  for (const s of tv.spans) {
    if ((start === undefined || s.endTimeUnixNano >= start) && (end === undefined || s.startTimeUnixNano <= end)) return true;
  }
  return false;
}

/**
 * Runs a search over candidate traces, in the order given, until `limit` traces matched; the
 * answer lists them newest first, as Tempo does.
 */
export async function searchTraces(
  query: string | CompiledSearch,
  candidates: AsyncIterable<readonly Span[]> | Iterable<readonly Span[]>,
  opts: SearchOptions = {},
): Promise<SearchResult> {
  const search = typeof query === 'string' ? compileSearch(query) : query;
  const limit = opts.limit ?? 20;
  const spss = opts.spss ?? 3;
  const pacer = new TimeSlicer({ ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.sliceMs !== undefined ? { sliceMs: opts.sliceMs } : {}) });
  pacer.check();
  const traces: TraceSearchMetadata[] = [];
  const starts = new Map<TraceSearchMetadata, bigint>();
  let inspectedTraces = 0;
  let inspectedSpans = 0;
  for await (const trace of candidates) {
    await pacer.tick();
    if (trace.length === 0) continue;
    inspectedTraces++;
    inspectedSpans += trace.length;
    const tv = new TraceView(trace);
    const durationMs = Math.floor(tv.durationNanos() / 1e6);
    if (opts.minDurationMs !== undefined && durationMs < opts.minDurationMs) continue;
    if (opts.maxDurationMs !== undefined && durationMs > opts.maxDurationMs) continue;
    if (!overlaps(tv, opts.startNanos, opts.endNanos)) continue;
    const spansets = search.run(tv);
    if (spansets.length === 0) continue;
    const meta = metadata(tv, spansets, search, spss);
    traces.push(meta);
    starts.set(meta, tv.startNanos());
    if (traces.length >= limit) break;
  }
  traces.sort((a, b) => {
    const x = starts.get(a)!;
    const y = starts.get(b)!;
    return x < y ? 1 : x > y ? -1 : 0;
  });
  return { traces, metrics: { inspectedTraces, inspectedSpans } };
}

function metadata(tv: TraceView, spansets: Spanset[], search: CompiledSearch, spss: number): TraceSearchMetadata {
  const root = tv.root();
  const service = root?.resource['service.name'];
  const spanSets = spansets.map((ss) => spanSetOf(tv, ss, search, spss));
  const meta: TraceSearchMetadata = {
    traceID: tv.spans[0]!.traceId,
    rootServiceName: root === null ? ROOT_NOT_YET_RECEIVED : typeof service === 'string' ? service : '',
    rootTraceName: root === null ? ROOT_NOT_YET_RECEIVED : root.name,
    startTimeUnixNano: tv.startNanos().toString(),
    durationMs: Math.floor(tv.durationNanos() / 1e6),
    spanSets,
    serviceStats: serviceStats(tv),
  };
  if (spanSets.length > 0) meta.spanSet = spanSets[0]!;
  return meta;
}

function serviceStats(tv: TraceView): TraceSearchMetadata['serviceStats'] {
  const stats: TraceSearchMetadata['serviceStats'] = {};
  for (const s of tv.spans) {
    const name = s.resource['service.name'];
    const key = typeof name === 'string' ? name : '';
    const st = (stats[key] ??= { spanCount: 0 });
    st.spanCount++;
    if (s.status.code === 'error') st.errorCount = (st.errorCount ?? 0) + 1;
  }
  return stats;
}

function spanSetOf(tv: TraceView, ss: Spanset, search: CompiledSearch, spss: number): SearchSpanSet {
  const spans: SearchSpan[] = [];
  for (const i of ss.spans.slice(0, spss)) {
    const s = tv.spans[i]!;
    const attributes: { key: string; value: Record<string, unknown> }[] = [];
    const keys = new Set<string>();
    for (const f of search.conditionFields) {
      const v = f.fn(i, tv);
      if (v === null || keys.has(f.key)) continue;
      keys.add(f.key);
      attributes.push({ key: f.key, value: anyValue(v) });
    }
    for (const f of ss.select) {
      const key = f.ref.t === 'attr' ? f.ref.name : f.ref.text;
      const v = f.fn(i, tv);
      if (v === null || keys.has(key)) continue;
      keys.add(key);
      attributes.push({ key, value: anyValue(v) });
    }
    const span: SearchSpan = {
      spanID: s.spanId,
      name: s.name,
      startTimeUnixNano: s.startTimeUnixNano.toString(),
      durationNanos: String(spanDurationNanos(s)),
    };
    if (attributes.length > 0) span.attributes = attributes;
    spans.push(span);
  }
  const out: SearchSpanSet = { spans, matched: ss.spans.length };
  const attributes = ss.by.map((b) => ({ key: b.key, value: anyValue(b.value) }));
  if (ss.scalar !== undefined) attributes.push({ key: 'scalar', value: anyValue(ss.scalar) });
  if (attributes.length > 0) out.attributes = attributes;
  return out;
}
