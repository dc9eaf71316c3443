/**
 * The parts of OTLP every signal shares (opentelemetry-proto common/v1 and resource/v1), in the
 * OTLP/JSON shape both decoders produce: int64 as decimal strings, bytes as base64, trace and span
 * ids as lowercase hex, proto3 defaults left out. The logs and the traces decoders build on it.
 */

/** An OTLP AnyValue: at most one of the members is set. */
export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  /** int64: a decimal string (protobuf, and JSON by the spec) or a number (JSON senders). */
  intValue?: string | number;
  /** A number, or "NaN" / "Infinity" / "-Infinity" in JSON. */
  doubleValue?: number | string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  /** Base64. */
  bytesValue?: string;
}

/** An attribute. */
export interface KeyValue {
  key: string;
  value?: AnyValue;
}

/** opentelemetry.proto.common.v1.InstrumentationScope. */
export interface InstrumentationScope {
  name?: string;
  version?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

/** opentelemetry.proto.resource.v1.Resource. */
export interface Resource {
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

/** How deep AnyValue arrays and kvlists may nest. */
export const MAX_ANYVALUE_DEPTH = 64;

/** A google.rpc.Code for an HTTP status (OTLP/HTTP clients go by the HTTP status; the code is informative). */
export function rpcCode(status: number): number {
  if (status === 400 || status === 415) return 3; // INVALID_ARGUMENT
  if (status === 413 || status === 429 || status === 507) return 8; // RESOURCE_EXHAUSTED
  if (status === 503) return 14; // UNAVAILABLE
  return 2; // UNKNOWN
}
