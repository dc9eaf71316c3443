/** Span facts both generators read: Tempo's enum spellings, durations, attribute lookup. */
import type { AttributeValue, Span, SpanKind, StatusCode } from '../storage/types.js';

const KIND: Record<SpanKind, string> = {
  unspecified: 'SPAN_KIND_UNSPECIFIED',
  internal: 'SPAN_KIND_INTERNAL',
  server: 'SPAN_KIND_SERVER',
  client: 'SPAN_KIND_CLIENT',
  producer: 'SPAN_KIND_PRODUCER',
  consumer: 'SPAN_KIND_CONSUMER',
};
const STATUS: Record<StatusCode, string> = { unset: 'STATUS_CODE_UNSET', ok: 'STATUS_CODE_OK', error: 'STATUS_CODE_ERROR' };

/** `SPAN_KIND_SERVER`…, as Tempo writes the span_kind label. */
export function kindLabel(k: SpanKind): string {
  return KIND[k];
}

/** `STATUS_CODE_ERROR`…, as Tempo writes the status_code label. */
export function statusLabel(c: StatusCode): string {
  return STATUS[c];
}

export function durationSeconds(s: Span): number {
  const d = s.endTimeUnixNano - s.startTimeUnixNano;
  return d > 0n ? Number(d) / 1e9 : 0;
}

export function endMs(s: Span): number {
  return Number(s.endTimeUnixNano / 1_000_000n);
}

export function serviceOf(s: Span): string {
  const v = s.resource['service.name'];
  return typeof v === 'string' && v !== '' ? v : 'unknown_service';
}

function scalarText(v: AttributeValue | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A span attribute, else the resource's, as text (Tempo looks in both, the span first). */
export function attrText(s: Span, name: string): string | undefined {
  return scalarText(s.attributes[name]) ?? scalarText(s.resource[name]);
}

function attrBytes(a: Record<string, AttributeValue>): number {
  let n = 0;
  for (const k in a) {
    const v = a[k]!;
    // key, a value wrapper and its tag; strings their length, scalars a varint or 8-byte double.
    n += k.length + 6 + (typeof v === 'string' ? v.length : typeof v === 'object' ? JSON.stringify(v).length : 8);
  }
  return n;
}

/**
 * The span's size in bytes as OTLP protobuf carries it, estimated field by field (Tempo counts the
 * encoded span; encoding every span again would cost more than the rest of the generator).
 */
export function spanSizeBytes(s: Span): number {
  let n = 16 + 8 + (s.parentSpanId ? 8 : 0) + 12 + s.name.length + 2 + 18 + 4 + s.status.message.length;
  n += attrBytes(s.attributes);
  for (const e of s.events) n += 14 + e.name.length + attrBytes(e.attributes);
  for (const l of s.links) n += 30 + attrBytes(l.attributes);
  return n;
}
