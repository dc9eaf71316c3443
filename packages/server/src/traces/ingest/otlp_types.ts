/**
 * ExportTraceServiceRequest in the OTLP/JSON shape (lowerCamelCase fields, int64 as decimal strings,
 * trace and span ids as hex, enums as integers). The protobuf decoder produces the same shape, so
 * one mapping (./otlp.ts) serves both encodings.
 */
import type { InstrumentationScope, KeyValue, Resource } from '../../core/otlp/common.js';

/** opentelemetry.proto.trace.v1.Span.Event. */
export interface OtlpEvent {
  timeUnixNano?: string | number;
  name?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

/** opentelemetry.proto.trace.v1.Span.Link. */
export interface OtlpLink {
  traceId?: string;
  spanId?: string;
  traceState?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  flags?: number;
}

/** opentelemetry.proto.trace.v1.Span. */
export interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  traceState?: string;
  parentSpanId?: string;
  flags?: number;
  name?: string;
  /** SpanKind: 0 unspecified … 5 consumer (JSON senders may also write the enum's name). */
  kind?: number | string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
  events?: OtlpEvent[];
  droppedEventsCount?: number;
  links?: OtlpLink[];
  droppedLinksCount?: number;
  /** StatusCode: 0 unset, 1 ok, 2 error. */
  status?: { message?: string; code?: number | string };
}

/** opentelemetry.proto.trace.v1.ScopeSpans. */
export interface ScopeSpans {
  scope?: InstrumentationScope;
  spans?: OtlpSpan[];
  schemaUrl?: string;
}

/** opentelemetry.proto.trace.v1.ResourceSpans. */
export interface ResourceSpans {
  resource?: Resource;
  scopeSpans?: ScopeSpans[];
  schemaUrl?: string;
}

/** opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest. */
export interface ExportTraceServiceRequest {
  resourceSpans?: ResourceSpans[];
}
