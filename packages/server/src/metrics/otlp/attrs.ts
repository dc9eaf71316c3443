/** OTLP attribute values as Prometheus label text (Prometheus' `pcommon.Value.AsString`). */
import type { AnyValue, KeyValue } from '../../core/otlp/common.js';
import type { Attr } from './model.js';

/** The label text of an AnyValue: strings as they are, numbers and booleans printed, arrays and maps as JSON. */
export function valueText(v: AnyValue | undefined): string {
  if (v === undefined) return '';
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return String(v.intValue);
  if (v.doubleValue !== undefined) return typeof v.doubleValue === 'number' ? String(v.doubleValue) : v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue ? 'true' : 'false';
  if (v.bytesValue !== undefined) return v.bytesValue;
  if (v.arrayValue !== undefined) return JSON.stringify((v.arrayValue.values ?? []).map(jsonOf));
  if (v.kvlistValue !== undefined) return JSON.stringify(Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, jsonOf(kv.value)])));
  return '';
}

function jsonOf(v: AnyValue | undefined): unknown {
  if (v === undefined) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return typeof v.doubleValue === 'number' ? v.doubleValue : v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(jsonOf);
  if (v.kvlistValue !== undefined) return Object.fromEntries((v.kvlistValue.values ?? []).map((kv) => [kv.key, jsonOf(kv.value)]));
  return v.bytesValue ?? null;
}

export function attrOf(kv: KeyValue): Attr {
  return { key: kv.key, value: valueText(kv.value) };
}
