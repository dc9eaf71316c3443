/**
 * Spans in the JSON the Jaeger UI and Grafana's Jaeger data source read (`/api/traces`): ids in
 * hex, times in microseconds, attributes as typed `tags`, events as `logs`, parents and links as
 * `references`, and one `process` per distinct resource. The OpenTelemetry parts Jaeger has no
 * field for become tags as Jaeger's own OTLP receiver maps them: `span.kind`, `otel.status_code`,
 * `otel.status_description`, `error=true` on an error, `otel.scope.name` and `otel.scope.version`.
 */
import type { AttributeValue, Attributes, Span } from '../../traces/storage/types.js';

export interface JaegerTag {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64';
  value: string | number | boolean;
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags: JaegerTag[];
  logs: { timestamp: number; fields: JaegerTag[] }[];
  processID: string;
  warnings: string[] | null;
  flags: number;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerTag[] }>;
  warnings: string[] | null;
}

function tag(key: string, v: AttributeValue): JaegerTag {
  if (typeof v === 'string') return { key, type: 'string', value: v };
  if (typeof v === 'boolean') return { key, type: 'bool', value: v };
  if (typeof v === 'number') return { key, type: Number.isInteger(v) ? 'int64' : 'float64', value: v };
  // Arrays and maps have no Jaeger type; Jaeger's OTLP receiver stores them as JSON strings too.
  return { key, type: 'string', value: JSON.stringify(v) };
}

function tags(attrs: Attributes, skip?: string): JaegerTag[] {
  return Object.entries(attrs)
    .filter(([k]) => k !== skip)
    .map(([k, v]) => tag(k, v));
}

const micros = (ns: bigint): number => Number(ns / 1000n);

/** One trace (all its spans) in Jaeger's JSON; spans sorted by start time. */
export function toJaegerTrace(spans: readonly Span[]): JaegerTrace {
  const processes: JaegerTrace['processes'] = {};
  const ids = new Map<Attributes, string>();
  const keys = new Map<string, string>();
  const processOf = (resource: Attributes): string => {
    let id = ids.get(resource);
    if (id !== undefined) return id;
    // Resources equal in content (from different requests) share one process, as in Jaeger.
    const key = JSON.stringify(resource);
    id = keys.get(key);
    if (id === undefined) {
      id = `p${keys.size + 1}`;
      keys.set(key, id);
      const svc = resource['service.name'];
      processes[id] = { serviceName: typeof svc === 'string' ? svc : '', tags: tags(resource, 'service.name') };
    }
    ids.set(resource, id);
    return id;
  };
  const sorted = [...spans].sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : a.startTimeUnixNano > b.startTimeUnixNano ? 1 : 0));
  const out = sorted.map((s): JaegerSpan => {
    const extra: JaegerTag[] = [];
    if (s.kind !== 'unspecified') extra.push({ key: 'span.kind', type: 'string', value: s.kind });
    if (s.status.code !== 'unset') extra.push({ key: 'otel.status_code', type: 'string', value: s.status.code.toUpperCase() });
    if (s.status.code === 'error') extra.push({ key: 'error', type: 'bool', value: true });
    if (s.status.message) extra.push({ key: 'otel.status_description', type: 'string', value: s.status.message });
    if (s.scope.name) extra.push({ key: 'otel.scope.name', type: 'string', value: s.scope.name });
    if (s.scope.version) extra.push({ key: 'otel.scope.version', type: 'string', value: s.scope.version });
    return {
      traceID: s.traceId,
      spanID: s.spanId,
      operationName: s.name,
      references: [
        ...(s.parentSpanId ? [{ refType: 'CHILD_OF' as const, traceID: s.traceId, spanID: s.parentSpanId }] : []),
        ...s.links.map((l) => ({ refType: 'FOLLOWS_FROM' as const, traceID: l.traceId, spanID: l.spanId })),
      ],
      startTime: micros(s.startTimeUnixNano),
      duration: micros(s.endTimeUnixNano - s.startTimeUnixNano),
      tags: [...tags(s.attributes), ...extra],
      logs: s.events.map((e) => ({ timestamp: micros(e.timeUnixNano), fields: [{ key: 'event', type: 'string', value: e.name }, ...tags(e.attributes)] })),
      processID: processOf(s.resource),
      warnings: null,
      flags: 1,
    };
  });
  return { traceID: spans[0]?.traceId ?? '', spans: out, processes, warnings: null };
}

/** Parent → child service edges with call counts over the given traces (Jaeger's `/api/dependencies`). */
export class DependencyCounter {
  private readonly edges = new Map<string, { parent: string; child: string; callCount: number }>();

  add(spans: readonly Span[]): void {
    const byId = new Map<string, Span>();
    for (const s of spans) byId.set(s.spanId, s);
    for (const s of spans) {
      const p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined;
      if (!p) continue;
      const parent = serviceName(p);
      const child = serviceName(s);
      if (parent === child) continue;
      const key = `${parent}\0${child}`;
      const e = this.edges.get(key);
      if (e) e.callCount++;
      else this.edges.set(key, { parent, child, callCount: 1 });
    }
  }

  result(): { parent: string; child: string; callCount: number }[] {
    return [...this.edges.values()].sort((a, b) => (a.parent === b.parent ? (a.child < b.child ? -1 : 1) : a.parent < b.parent ? -1 : 1));
  }
}

function serviceName(s: Span): string {
  const v = s.resource['service.name'];
  return typeof v === 'string' ? v : '';
}
