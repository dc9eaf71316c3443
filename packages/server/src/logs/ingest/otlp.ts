/**
 * OTLP/HTTP logs (`/v1/logs`), in the JSON and the binary protobuf encodings. Both decoders produce
 * the same {@link ExportLogsServiceRequest} (the OTLP/JSON shape: int64 as decimal strings, bytes as
 * base64, trace and span ids as hex) and {@link mapOtlpLogs} alone turns it into streams, like
 * Loki's OTLP endpoint: a few resource attributes (service.name, service.namespace,
 * deployment.environment, …) become stream labels with dots turned to underscores; the other
 * attributes, the severity, the trace and span ids and the scope name become structured metadata;
 * the body becomes the line.
 */
import type { Label } from '../../core/model/labels.js';
import type { LogEntry, PushStream } from '../storage/types.js';
import { sanitizeLabelName } from '../logql/pipeline.js';
import { checkLabels, checkLine, LimitError, numberOf, textOf, type LogLimits } from './limits.js';
import { decodeExportLogsServiceRequest } from './otlp_proto.js';
import { MAX_ANYVALUE_DEPTH, type AnyValue, type InstrumentationScope, type KeyValue, type Resource } from '../../core/otlp/common.js';

export type { AnyValue, KeyValue, InstrumentationScope } from '../../core/otlp/common.js';

/** opentelemetry.proto.logs.v1.LogRecord. */
export interface LogRecord {
  /** fixed64 nanoseconds since the epoch, as a decimal string; absent or 0: unknown. */
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
  /** Hex. */
  traceId?: string;
  spanId?: string;
  eventName?: string;
}

/** opentelemetry.proto.logs.v1.ScopeLogs. */
export interface ScopeLogs {
  scope?: InstrumentationScope;
  logRecords?: LogRecord[];
  schemaUrl?: string;
}

/** opentelemetry.proto.logs.v1.ResourceLogs. */
export interface ResourceLogs {
  resource?: Resource;
  scopeLogs?: ScopeLogs[];
  schemaUrl?: string;
}

/** opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest. */
export interface ExportLogsServiceRequest {
  resourceLogs?: ResourceLogs[];
}

const STREAM_ATTRS = new Set([
  'service.name',
  'service.namespace',
  'deployment.environment',
  'deployment.environment.name',
  'k8s.namespace.name',
  'k8s.pod.name',
]);
const MAX_INT64 = (1n << 63n) - 1n;

/** A repeated field: absent is empty; anything but an array (JSON senders) is a 400. */
function list<T>(v: T[] | undefined | null, what: string): T[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new LimitError(400, `invalid OTLP logs request: ${what} must be an array`);
  return v;
}

/** An int64 as exact decimal text, when it is one. */
function intText(v: string | number): string | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : undefined;
  const s = textOf(v);
  return /^-?\d{1,20}$/.test(s) ? BigInt(s).toString() : undefined;
}

/** The value as JSON text: strings quoted, integers exact, bytes as base64 strings. */
function jsonText(v: AnyValue | undefined, depth = 0): string {
  if (!v || typeof v !== 'object') return '""';
  if (depth >= MAX_ANYVALUE_DEPTH)
    throw new LimitError(400, `invalid OTLP logs request: AnyValue arrays and kvlists nest deeper than ${MAX_ANYVALUE_DEPTH} levels`);
  if (v.stringValue !== undefined) return JSON.stringify(textOf(v.stringValue));
  if (v.intValue !== undefined) return intText(v.intValue) ?? JSON.stringify(numberOf(v.intValue));
  if (v.doubleValue !== undefined) {
    const n = numberOf(v.doubleValue);
    return Number.isFinite(n) ? JSON.stringify(n) : `"${n}"`; // NaN and ±Infinity: strings, as proto3 JSON has them
  }
  if (v.boolValue !== undefined) return String(v.boolValue === true);
  if (v.bytesValue !== undefined) return JSON.stringify(textOf(v.bytesValue));
  if (v.arrayValue)
    return `[${list(v.arrayValue.values, 'arrayValue.values')
      .map((x) => jsonText(x, depth + 1))
      .join(',')}]`;
  if (v.kvlistValue)
    return `{${list(v.kvlistValue.values, 'kvlistValue.values')
      .map((kv) => `${JSON.stringify(textOf(kv?.key ?? ''))}:${jsonText(kv?.value, depth + 1)}`)
      .join(',')}}`;
  return '""';
}

/** The value as a line or a label value: strings, bytes (base64) and NaN/±Infinity as they are, the rest as JSON. */
function str(v: AnyValue | undefined): string {
  if (v && typeof v === 'object') {
    if (v.stringValue !== undefined) return textOf(v.stringValue);
    if (v.bytesValue !== undefined) return textOf(v.bytesValue);
  }
  const j = jsonText(v);
  return j === '""' ? '' : j.startsWith('"') ? (JSON.parse(j) as string) : j;
}

/** A timestamp in nanoseconds; undefined when absent or 0 (unknown, by the spec). */
function nanos(v: string | number | undefined, what: string): bigint | undefined {
  if (v === undefined || v === null || v === '' || v === 0 || v === '0') return undefined;
  const ok = typeof v === 'number' ? Number.isInteger(v) && v > 0 : typeof v === 'string' && /^\d{1,20}$/.test(v);
  const t = ok ? BigInt(v) : -1n;
  if (t < 0n || t > MAX_INT64) throw new LimitError(400, `invalid OTLP log record ${what} ${JSON.stringify(v)}: want nanoseconds since the epoch`);
  return t === 0n ? undefined : t;
}

/** Turns a decoded ExportLogsServiceRequest into streams, checking the limits; writes nothing. */
export function mapOtlpLogs(req: ExportLogsServiceRequest, limits: LogLimits, now: () => number = Date.now): PushStream[] {
  if (!req || typeof req !== 'object' || Array.isArray(req)) throw new LimitError(400, 'invalid OTLP logs request: want an ExportLogsServiceRequest object');
  const byKey = new Map<string, { labels: PushStream['labels']; entries: LogEntry[] }>();
  for (const rl of list(req.resourceLogs, 'resourceLogs')) {
    const pairs: Label[] = [];
    const resMeta: Label[] = [];
    for (const kv of list(rl?.resource?.attributes, 'resource.attributes')) {
      const key = textOf(kv?.key ?? '');
      if (STREAM_ATTRS.has(key)) pairs.push({ name: sanitizeLabelName(key), value: str(kv?.value) });
      else resMeta.push({ name: sanitizeLabelName(key), value: str(kv?.value) });
    }
    if (!pairs.some((l) => l.name === 'service_name')) pairs.push({ name: 'service_name', value: 'unknown_service' });
    const labels = checkLabels(pairs, limits);
    const key = JSON.stringify(labels);
    let group = byKey.get(key);
    if (!group) byKey.set(key, (group = { labels, entries: [] }));
    for (const sl of list(rl?.scopeLogs, 'scopeLogs')) {
      const scopeName = sl?.scope?.name ? textOf(sl.scope.name) : '';
      for (const rec of list(sl?.logRecords, 'logRecords').map((r): LogRecord => r ?? {})) {
        const t = nanos(rec.timeUnixNano, 'timeUnixNano') ?? nanos(rec.observedTimeUnixNano, 'observedTimeUnixNano') ?? BigInt(Math.floor(now())) * 1_000_000n;
        const line = str(rec.body);
        checkLine(line, labels, limits);
        const meta: Label[] = [...resMeta];
        for (const kv of list(rec.attributes, 'attributes')) meta.push({ name: sanitizeLabelName(textOf(kv?.key ?? '')), value: str(kv?.value) });
        if (rec.severityText) meta.push({ name: 'severity_text', value: textOf(rec.severityText) });
        if (rec.severityNumber) meta.push({ name: 'severity_number', value: textOf(rec.severityNumber) });
        if (rec.traceId) meta.push({ name: 'trace_id', value: textOf(rec.traceId).toLowerCase() });
        if (rec.spanId) meta.push({ name: 'span_id', value: textOf(rec.spanId).toLowerCase() });
        if (scopeName) meta.push({ name: 'scope_name', value: scopeName });
        group.entries.push({ t, line, meta });
      }
    }
  }
  for (const g of byKey.values()) g.entries.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  return [...byKey.values()];
}

/** Parses an OTLP/JSON ExportLogsServiceRequest (no mapping). */
export function parseOtlpLogsJson(body: string): ExportLogsServiceRequest {
  try {
    return JSON.parse(body) as ExportLogsServiceRequest;
  } catch (err) {
    throw new LimitError(400, `invalid OTLP JSON: ${(err as Error).message}`);
  }
}

/** Decodes an OTLP JSON ExportLogsServiceRequest into streams. */
export function decodeOtlpLogsJson(body: string, limits: LogLimits, now?: () => number): PushStream[] {
  return mapOtlpLogs(parseOtlpLogsJson(body), limits, now);
}

/** Decodes a binary protobuf ExportLogsServiceRequest (already decompressed) into streams. */
export function decodeOtlpLogsProto(body: Buffer, limits: LogLimits, now?: () => number): PushStream[] {
  return mapOtlpLogs(decodeExportLogsServiceRequest(body), limits, now);
}
