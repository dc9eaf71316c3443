/**
 * Traces for the UI, free of Preact so Node unit-tests them: OTLP/JSON (Tempo's `/api/v2/traces/<id>`)
 * flattened into spans, laid out as a waterfall (tree by parent id, offsets on one time axis), the
 * critical path, service colours, the link from a span to its log lines, and the TraceQL the search
 * form stands for.
 */

// The UI's base path (router.ts's BASE), repeated so this module stays free of Preact for the Node tests.
const BASE = '/ui';

/** An attribute value as the UI shows it. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [k: string]: AttrValue };

/** One span, times in ms relative to the trace's first start (kept exact from nanosecond strings). */
export interface TraceSpan {
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  kind: string;
  /** ms after the trace's first span started. */
  start: number;
  end: number;
  /** Epoch ms, for links to other pages. */
  startMs: number;
  endMs: number;
  error: boolean;
  statusMessage: string;
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
  events: Array<{ name: string; at: number; attributes: Record<string, AttrValue> }>;
}

/** A parsed trace. */
export interface Trace {
  traceId: string;
  spans: TraceSpan[];
  /** Epoch ms of the first span's start. */
  startMs: number;
  /** ms from the first start to the last end. */
  duration: number;
}

/** A waterfall row. */
export interface WaterfallRow {
  span: TraceSpan;
  depth: number;
  /** Bar position and width in percent of the trace's duration. */
  left: number;
  width: number;
  /** On the critical path: the chain of spans the trace's end waited for. */
  critical: boolean;
  /** The parent is not in the trace (a lost span, or a trace still arriving). */
  orphan: boolean;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number | string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpKeyValue[];
  events?: Array<{ timeUnixNano: string | number; name: string; attributes?: OtlpKeyValue[] }>;
  status?: { code?: number | string; message?: string };
}
/** Tempo's v2 answer (`trace.resourceSpans`) or v1 (`batches`). */
export interface OtlpTraceResponse {
  trace?: { resourceSpans?: OtlpResourceSpans[] };
  batches?: OtlpResourceSpans[];
}
interface OtlpResourceSpans {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
}

function value(v: OtlpAnyValue | undefined): AttrValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  if (v.kvlistValue) return attrs(v.kvlistValue.values);
  return null;
}

function attrs(kvs: OtlpKeyValue[] | undefined): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of kvs ?? []) out[kv.key] = value(kv.value);
  return out;
}

function kindOf(k: number | string | undefined): string {
  if (typeof k === 'number') return KINDS[k] ?? 'unspecified';
  const s = String(k ?? '').toLowerCase();
  return s.startsWith('span_kind_') ? s.slice('span_kind_'.length) : s || 'unspecified';
}

function isError(code: number | string | undefined): boolean {
  return code === 2 || code === 'STATUS_CODE_ERROR' || code === 'error';
}

/** The spans of a trace-by-id answer; an empty trace when it holds none. */
export function parseTrace(traceId: string, body: OtlpTraceResponse): Trace {
  const batches = body.trace?.resourceSpans ?? body.batches ?? [];
  const raw: Array<{ s: OtlpSpan; resource: Record<string, AttrValue> }> = [];
  for (const rs of batches) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) raw.push({ s, resource });
  }
  if (raw.length === 0) return { traceId, spans: [], startMs: 0, duration: 0 };
  // Nanoseconds since the epoch overflow a double's exact range; offsets from the first start do not.
  const ns = (x: string | number): bigint => BigInt(typeof x === 'number' ? Math.round(x) : x);
  const t0 = raw.reduce((m, { s }) => (ns(s.startTimeUnixNano) < m ? ns(s.startTimeUnixNano) : m), ns(raw[0]!.s.startTimeUnixNano));
  const rel = (x: string | number): number => Number(ns(x) - t0) / 1e6;
  const startMs = Number(t0 / 1_000_000n) + Number(t0 % 1_000_000n) / 1e6;
  const spans = raw.map(({ s, resource }): TraceSpan => {
    const start = rel(s.startTimeUnixNano);
    const end = Math.max(start, rel(s.endTimeUnixNano));
    return {
      spanId: s.spanId,
      parentSpanId: s.parentSpanId ?? '',
      name: s.name,
      service: typeof resource['service.name'] === 'string' ? resource['service.name'] : 'unknown_service',
      kind: kindOf(s.kind),
      start,
      end,
      startMs: startMs + start,
      endMs: startMs + end,
      error: isError(s.status?.code),
      statusMessage: s.status?.message ?? '',
      attributes: attrs(s.attributes),
      resource,
      events: (s.events ?? []).map((e) => ({ name: e.name, at: rel(e.timeUnixNano), attributes: attrs(e.attributes) })),
    };
  });
  return { traceId, spans, startMs, duration: Math.max(...spans.map((s) => s.end)) };
}

/**
 * Spans the trace's end waited for (Jaeger's definition): from each root, walking back from its end,
 * the child that finished last is on the path, and the cursor moves to that child's start; then the
 * child that finished last before the cursor, and so on. A child that overlapped the one on the path
 * ran in parallel and delayed nothing, so it is off. Only the first pick may run past its parent's end
 * (a fire-and-forget child); it is cut at that end.
 */
export function criticalPath(trace: Trace): Set<string> {
  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const kids = childrenOf(trace.spans, byId);
  const on = new Set<string>();
  const walk = (s: TraceSpan, until: number): void => {
    on.add(s.spanId);
    let cursor = Math.min(s.end, until);
    const pending = [...(kids.get(s.spanId) ?? [])];
    for (;;) {
      let best: TraceSpan | undefined;
      const first = pending.length === (kids.get(s.spanId) ?? []).length;
      for (const c of pending) {
        const fits = first ? c.start < cursor : c.end <= cursor;
        if (fits && (!best || Math.min(c.end, cursor) > Math.min(best.end, cursor))) best = c;
      }
      if (!best) return;
      pending.splice(pending.indexOf(best), 1);
      walk(best, cursor);
      cursor = best.start;
      if (cursor <= s.start) return;
    }
  };
  for (const r of trace.spans.filter((s) => !byId.has(s.parentSpanId))) walk(r, r.end);
  return on;
}

function childrenOf(spans: readonly TraceSpan[], byId: Map<string, TraceSpan>): Map<string, TraceSpan[]> {
  const kids = new Map<string, TraceSpan[]>();
  for (const s of spans) {
    if (!byId.has(s.parentSpanId) || s.parentSpanId === s.spanId) continue;
    const list = kids.get(s.parentSpanId) ?? [];
    list.push(s);
    kids.set(s.parentSpanId, list);
  }
  for (const list of kids.values()) list.sort((a, b) => a.start - b.start || a.name.localeCompare(b.name));
  return kids;
}

/** The waterfall: depth-first by start time, roots (and orphans) first by start. */
export function waterfall(trace: Trace): WaterfallRow[] {
  const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
  const kids = childrenOf(trace.spans, byId);
  const critical = criticalPath(trace);
  const total = trace.duration || 1;
  const rows: WaterfallRow[] = [];
  const seen = new Set<string>();
  const visit = (s: TraceSpan, depth: number, orphan: boolean): void => {
    // A cycle of parent ids (a broken sender) must not loop the page.
    if (seen.has(s.spanId)) return;
    seen.add(s.spanId);
    rows.push({
      span: s,
      depth,
      left: (s.start / total) * 100,
      width: Math.max(((s.end - s.start) / total) * 100, 0),
      critical: critical.has(s.spanId),
      orphan,
    });
    for (const c of kids.get(s.spanId) ?? []) visit(c, depth + 1, false);
  };
  const roots = trace.spans.filter((s) => !byId.has(s.parentSpanId)).sort((a, b) => a.start - b.start);
  for (const r of roots) visit(r, 0, r.parentSpanId !== '');
  // Spans only reachable through a cycle still show, flat, at the end.
  for (const s of trace.spans) if (!seen.has(s.spanId)) visit(s, 0, true);
  return rows;
}

// Distinct hues that read on light and dark backgrounds; red is left out: it means error.
const PALETTE = ['#3b82f6', '#10b981', '#a855f7', '#f59e0b', '#06b6d4', '#84cc16', '#ec4899', '#6366f1', '#14b8a6', '#eab308'];

/** A service's colour, the same on every page load and in every trace. */
export function serviceColor(service: string): string {
  let h = 0;
  for (let i = 0; i < service.length; i++) h = (h * 31 + service.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

/** A duration in ms as people read it: 850 µs, 12.3 ms, 2.41 s. */
export function formatSpanDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} m ${((ms % 60_000) / 1000).toFixed(0)} s`;
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * The Logs page over a span's service and time, lines containing the trace id. The range opens a
 * second before the span and closes five after: log lines are often written just after the work.
 */
export function spanLogsHref(traceId: string, span: Pick<TraceSpan, 'service' | 'startMs' | 'endMs'>): string {
  const q = new URLSearchParams({
    query: `{service=${quote(span.service)}} |= ${quote(traceId)}`,
    from: new Date(Math.floor(span.startMs) - 1000).toISOString(),
    to: new Date(Math.ceil(span.endMs) + 5000).toISOString(),
  });
  return `${BASE}/logs?${q.toString()}`;
}

/** What the trace search form holds. */
export interface TraceSearchForm {
  service?: string;
  operation?: string;
  status?: string;
  traceql?: string;
}

/** The TraceQL of the form: free TraceQL when given, else one spanset of the fields' conditions. */
export function searchTraceQL(f: TraceSearchForm): string {
  if (f.traceql?.trim()) return f.traceql.trim();
  const conds: string[] = [];
  if (f.service) conds.push(`resource.service.name = ${quote(f.service)}`);
  if (f.operation) conds.push(`name = ${quote(f.operation)}`);
  if (f.status === 'error' || f.status === 'ok' || f.status === 'unset') conds.push(`status = ${f.status}`);
  return conds.length ? `{ ${conds.join(' && ')} }` : '{}';
}

/** One trace of Tempo's `/api/search` answer. */
export interface SearchHit {
  traceID: string;
  rootServiceName?: string;
  rootTraceName?: string;
  startTimeUnixNano?: string;
  durationMs?: number;
  spanSets?: Array<{ matched?: number }>;
  spanSet?: { matched?: number };
}

/** A search result row. */
export interface SearchRow {
  traceId: string;
  root: string;
  service: string;
  startMs: number;
  durationMs: number;
  matched: number;
  href: string;
  /** The trace holds an error span; undefined when that is not known. */
  error: boolean | undefined;
}

/**
 * The search for the same traces that hold an error span, which marks the rows: Tempo's answer does
 * not say whether a trace failed. The query is wrapped whole, so a pipeline in free TraceQL stays as it is.
 */
export function errorTraceQL(query: string): string {
  return `(${query}) && { status = error }`;
}

/** Rows of a search answer, slowest first when `byDuration`, else newest first. */
export function searchRows(hits: readonly SearchHit[] | undefined, byDuration = false, errors?: ReadonlySet<string>): SearchRow[] {
  const rows = (hits ?? []).map((h) => ({
    traceId: h.traceID,
    root: h.rootTraceName ?? '<root span not yet received>',
    service: h.rootServiceName ?? '<root span not yet received>',
    startMs: h.startTimeUnixNano ? Number(BigInt(h.startTimeUnixNano) / 1_000_000n) : 0,
    // Tempo leaves durationMs out when it is under a millisecond.
    durationMs: h.durationMs ?? 0,
    matched: (h.spanSets ?? (h.spanSet ? [h.spanSet] : [])).reduce((n, s) => n + (s.matched ?? 0), 0),
    href: `${BASE}/traces/${encodeURIComponent(h.traceID)}`,
    error: errors ? errors.has(h.traceID) : undefined,
  }));
  return rows.sort(byDuration ? (a, b) => b.durationMs - a.durationMs : (a, b) => b.startMs - a.startMs);
}

/**
 * "Slowest traces during this alert": the trace search for the alert's service, slowest first, from
 * five minutes before it started firing (a rule's `for` means the trouble began earlier) to its end,
 * or now while it fires.
 */
export function alertTracesHref(service: string, startsAt: number, endsAt: number | undefined, now: number): string {
  const to = endsAt !== undefined && endsAt < now ? endsAt : now;
  const q = new URLSearchParams({
    service,
    sort: 'duration',
    from: new Date(startsAt - 5 * 60_000).toISOString(),
    to: new Date(Math.max(to, startsAt + 60_000)).toISOString(),
  });
  return `${BASE}/traces?${q.toString()}`;
}

/** How many traces the alert page asks for before it keeps the slowest: Tempo's search returns newest first. */
export const ALERT_TRACE_LIMIT = 1000;

/**
 * The `/api/search` parameters for "slowest traces during this alert": the traces of the alert's
 * service (`service`, else `job`, as the root service or any span's) between the moment the alert
 * became active and now. Seconds are rounded outwards so the edges are kept.
 */
export function alertTraceSearchParams(service: string, activeAtMs: number, nowMs: number): Record<string, string> {
  return {
    q: searchTraceQL({ service }),
    start: String(Math.floor(activeAtMs / 1000)),
    end: String(Math.ceil(Math.max(nowMs, activeAtMs + 1000) / 1000)),
    limit: String(ALERT_TRACE_LIMIT),
  };
}
