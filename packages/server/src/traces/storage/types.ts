/** The span model every part of traces shares: ingest decodes into it, stores keep it, TraceQL reads it. */

/** An attribute value as OTLP carries it (int64 values beyond 2^53 are kept as decimal strings by the decoder). */
export type AttributeValue = string | number | boolean | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export type SpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type StatusCode = 'unset' | 'ok' | 'error';

export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: Attributes;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

export interface Span {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: SpanKind;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  status: { code: StatusCode; message: string };
  attributes: Attributes;
  /** The resource's attributes (service.name among them); spans of one resource share the object. */
  resource: Attributes;
  scope: { name: string; version: string };
  events: SpanEvent[];
  links: SpanLink[];
}
