/**
 * OTLP/HTTP logs in the JSON encoding (`/v1/logs`). Like Loki's OTLP endpoint: a few resource
 * attributes (service.name, service.namespace, deployment.environment) become stream labels with
 * dots turned to underscores; the other attributes, the severity and the trace and span ids become
 * structured metadata; the body becomes the line.
 */
import type { Label } from '../../model/labels.js';
import type { LogEntry, PushStream } from '../../logstore/types.js';
import { sanitizeLabelName } from '../../logql/pipeline.js';
import { checkLabels, checkLine, LimitError, type LogLimits } from './limits.js';

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}

const STREAM_ATTRS = new Set(['service.name', 'service.namespace', 'deployment.environment', 'deployment.environment.name', 'k8s.namespace.name', 'k8s.pod.name']);

function plain(v: AnyValue | undefined): unknown {
  if (!v) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  if (v.kvlistValue) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, plain(kv.value)]));
  return '';
}

function str(v: AnyValue | undefined): string {
  const p = plain(v);
  return typeof p === 'string' ? p : JSON.stringify(p);
}

/** Decodes an OTLP JSON ExportLogsServiceRequest. */
export function decodeOtlpLogsJson(body: string, limits: LogLimits): PushStream[] {
  let doc: { resourceLogs?: { resource?: { attributes?: KeyValue[] }; scopeLogs?: { scope?: { name?: string }; logRecords?: Record<string, unknown>[] }[] }[] };
  try {
    doc = JSON.parse(body) as typeof doc;
  } catch (err) {
    throw new LimitError(400, `invalid OTLP JSON: ${(err as Error).message}`);
  }
  const byKey = new Map<string, { labels: PushStream['labels']; entries: LogEntry[] }>();
  for (const rl of doc.resourceLogs ?? []) {
    const pairs: Label[] = [];
    const resMeta: Label[] = [];
    for (const kv of rl.resource?.attributes ?? []) {
      if (STREAM_ATTRS.has(kv.key)) pairs.push({ name: sanitizeLabelName(kv.key), value: str(kv.value) });
      else resMeta.push({ name: sanitizeLabelName(kv.key), value: str(kv.value) });
    }
    if (!pairs.some((l) => l.name === 'service_name')) pairs.push({ name: 'service_name', value: 'unknown_service' });
    const labels = checkLabels(pairs, limits);
    const key = JSON.stringify(labels);
    let group = byKey.get(key);
    if (!group) byKey.set(key, (group = { labels, entries: [] }));
    for (const sl of rl.scopeLogs ?? []) {
      for (const rec of sl.logRecords ?? []) {
        const tRaw = (rec['timeUnixNano'] as string | number | undefined) || (rec['observedTimeUnixNano'] as string | number | undefined) || String(BigInt(Date.now()) * 1_000_000n);
        const t = BigInt(tRaw);
        const line = str(rec['body'] as AnyValue | undefined);
        checkLine(line, labels, limits);
        const meta: Label[] = [...resMeta];
        for (const kv of (rec['attributes'] as KeyValue[] | undefined) ?? []) meta.push({ name: sanitizeLabelName(kv.key), value: str(kv.value) });
        if (rec['severityText']) meta.push({ name: 'severity_text', value: String(rec['severityText']) });
        if (rec['severityNumber']) meta.push({ name: 'severity_number', value: String(rec['severityNumber']) });
        if (rec['traceId']) meta.push({ name: 'trace_id', value: String(rec['traceId']) });
        if (rec['spanId']) meta.push({ name: 'span_id', value: String(rec['spanId']) });
        if (sl.scope?.name) meta.push({ name: 'scope_name', value: sl.scope.name });
        group.entries.push({ t, line, meta });
      }
    }
  }
  for (const g of byKey.values()) g.entries.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  return [...byKey.values()];
}
