/**
 * OTLP traces in the binary protobuf encoding, decoded over the shared OTLP protobuf reader
 * (core/otlp/protobuf.ts) into the OTLP/JSON shape of ./otlp_types.ts, so one mapping serves both
 * encodings. Ids are kept as hex whatever their length: a span with a bad id is refused alone (in
 * partial_success), not the request. Also the reply: ExportTraceServiceResponse.
 *
 * Field numbers (opentelemetry-proto collector/trace/v1, trace/v1):
 *   ExportTraceServiceRequest  1 resource_spans
 *   ResourceSpans              1 resource, 2 scope_spans, 3 schema_url
 *   ScopeSpans                 1 scope, 2 spans, 3 schema_url
 *   Span                       1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id, 5 name,
 *                              6 kind, 7 start_time_unix_nano (fixed64), 8 end_time_unix_nano
 *                              (fixed64), 9 attributes, 10 dropped_attributes_count, 11 events,
 *                              12 dropped_events_count, 13 links, 14 dropped_links_count,
 *                              15 status, 16 flags (fixed32)
 *   Span.Event                 1 time_unix_nano (fixed64), 2 name, 3 attributes, 4 dropped_attributes_count
 *   Span.Link                  1 trace_id, 2 span_id, 3 trace_state, 4 attributes,
 *                              5 dropped_attributes_count, 6 flags (fixed32)
 *   Status                     2 message, 3 code
 *   ExportTraceServiceResponse 1 partial_success {1 rejected_spans, 2 error_message}
 */
import { decodeResource, decodeScope, encodePartialSuccess, ProtoFields } from '../../core/otlp/protobuf.js';
import type { InstrumentationScope, KeyValue, Resource } from '../../core/otlp/common.js';
import { TraceIngestError } from './limits.js';
import type { ExportTraceServiceRequest, OtlpEvent, OtlpLink, OtlpSpan, ResourceSpans, ScopeSpans } from './otlp_types.js';

function malformed(detail: string): TraceIngestError {
  return new TraceIngestError(400, `malformed OTLP protobuf ExportTraceServiceRequest: ${detail}`);
}

/** Decodes a (decompressed) binary protobuf ExportTraceServiceRequest; malformed input is a 400 {@link TraceIngestError}. */
export function decodeExportTraceServiceRequest(buf: Buffer): ExportTraceServiceRequest {
  return ProtoFields.decode(buf, 'ExportTraceServiceRequest', malformed, (f) => {
    const resourceSpans: ResourceSpans[] = [];
    while (f.next()) {
      if (f.field === 1) resourceSpans.push(decodeResourceSpans(f.message('resource_spans', 'ResourceSpans')));
      else f.skip();
    }
    return resourceSpans.length ? { resourceSpans } : {};
  });
}

function decodeResourceSpans(f: ProtoFields): ResourceSpans {
  const out: ResourceSpans = {};
  const scopeSpans: ScopeSpans[] = [];
  while (f.next()) {
    if (f.field === 1) decodeResource(f.message('resource', 'Resource'), (out.resource ??= {}));
    else if (f.field === 2) scopeSpans.push(decodeScopeSpans(f.message('scope_spans', 'ScopeSpans')));
    else if (f.field === 3) out.schemaUrl = f.string('schema_url');
    else f.skip();
  }
  if (scopeSpans.length) out.scopeSpans = scopeSpans;
  return out;
}

function decodeScopeSpans(f: ProtoFields): ScopeSpans {
  const out: ScopeSpans = {};
  const spans: OtlpSpan[] = [];
  while (f.next()) {
    if (f.field === 1) decodeScope(f.message('scope', 'InstrumentationScope'), (out.scope ??= {}));
    else if (f.field === 2) spans.push(decodeSpan(f.message('spans', 'Span')));
    else if (f.field === 3) out.schemaUrl = f.string('schema_url');
    else f.skip();
  }
  if (spans.length) out.spans = spans;
  return out;
}

/**
 * Receives an ExportTraceServiceRequest's parts in document order as they are decoded: a resource
 * before the spans under it, a scope before its spans, and each span before the next is read, so
 * the OTLP form of a span dies young (a request's whole tree, kept until it was mapped, was copied
 * by every scavenge that came while it lived).
 */
export interface TraceVisitor {
  /** A ResourceSpans begins; its resource (undefined when absent) is decoded whatever its place in the message. */
  resource(resource: Resource | undefined): void;
  /** A ScopeSpans begins; its scope likewise. */
  scope(scope: InstrumentationScope | undefined): void;
  span(span: OtlpSpan): void;
  /**
   * Optional: the span's bytes `buf[start, end)` before they are decoded; returns true when it took
   * the span itself (./otlp_span_bytes.ts), false to have it decoded and handed to `span`.
   */
  spanBytes?(buf: Buffer, start: number, end: number): boolean;
}

/** Decodes a (decompressed) binary protobuf ExportTraceServiceRequest into `v`; malformed input is a 400 {@link TraceIngestError}. */
export function visitExportTraceServiceRequest(buf: Buffer, v: TraceVisitor): void {
  ProtoFields.decode(buf, 'ExportTraceServiceRequest', malformed, (f) => {
    while (f.next()) {
      if (f.field === 1) visitResourceSpans(f.message('resource_spans', 'ResourceSpans'), v);
      else f.skip();
    }
  });
}

function visitResourceSpans(f: ProtoFields, v: TraceVisitor): void {
  // The resource first (protobuf allows it after the spans): one pass that steps over the rest.
  const scan = f.rest();
  let resource: Resource | undefined;
  while (scan.next()) {
    if (scan.field === 1) decodeResource(scan.message('resource', 'Resource'), (resource ??= {}));
    else scan.skip();
  }
  v.resource(resource);
  while (f.next()) {
    if (f.field === 2) visitScopeSpans(f.message('scope_spans', 'ScopeSpans'), v);
    else if (f.field === 3) f.string('schema_url');
    else f.skip();
  }
}

function visitScopeSpans(f: ProtoFields, v: TraceVisitor): void {
  const scan = f.rest();
  let scope: InstrumentationScope | undefined;
  while (scan.next()) {
    if (scan.field === 1) decodeScope(scan.message('scope', 'InstrumentationScope'), (scope ??= {}));
    else scan.skip();
  }
  v.scope(scope);
  while (f.next()) {
    if (f.field === 2) {
      const start = f.spanOf('spans');
      if (!v.spanBytes?.(f.buffer, start, f.pos)) v.span(decodeSpan(f.sub(start, f.pos, 'Span')));
    } else if (f.field === 3) f.string('schema_url');
    else f.skip();
  }
}

function attributesOf(f: ProtoFields, into: { attributes?: KeyValue[] }): void {
  (into.attributes ??= []).push(f.keyValue('attributes'));
}

function decodeSpan(f: ProtoFields): OtlpSpan {
  const out: OtlpSpan = {};
  while (f.next()) {
    switch (f.field) {
      case 1:
        out.traceId = f.hex('trace_id');
        break;
      case 2:
        out.spanId = f.hex('span_id');
        break;
      case 3:
        out.traceState = f.string('trace_state');
        break;
      case 4:
        out.parentSpanId = f.hex('parent_span_id');
        break;
      case 5:
        out.name = f.string('name');
        break;
      case 6:
        out.kind = f.int32('kind');
        break;
      case 7:
        out.startTimeUnixNano = f.fixed64('start_time_unix_nano');
        break;
      case 8:
        out.endTimeUnixNano = f.fixed64('end_time_unix_nano');
        break;
      case 9:
        attributesOf(f, out);
        break;
      case 10:
        out.droppedAttributesCount = f.uint32('dropped_attributes_count');
        break;
      case 11:
        (out.events ??= []).push(decodeEvent(f.message('events', 'Span.Event')));
        break;
      case 12:
        out.droppedEventsCount = f.uint32('dropped_events_count');
        break;
      case 13:
        (out.links ??= []).push(decodeLink(f.message('links', 'Span.Link')));
        break;
      case 14:
        out.droppedLinksCount = f.uint32('dropped_links_count');
        break;
      case 15: {
        const g = f.message('status', 'Status');
        const status: NonNullable<OtlpSpan['status']> = {};
        while (g.next()) {
          if (g.field === 2) status.message = g.string('message');
          else if (g.field === 3) status.code = g.int32('code');
          else g.skip();
        }
        out.status = status;
        break;
      }
      case 16:
        out.flags = f.fixed32('flags');
        break;
      default:
        f.skip();
    }
  }
  return out;
}

function decodeEvent(f: ProtoFields): OtlpEvent {
  const out: OtlpEvent = {};
  while (f.next()) {
    if (f.field === 1) out.timeUnixNano = f.fixed64('time_unix_nano');
    else if (f.field === 2) out.name = f.string('name');
    else if (f.field === 3) attributesOf(f, out);
    else if (f.field === 4) out.droppedAttributesCount = f.uint32('dropped_attributes_count');
    else f.skip();
  }
  return out;
}

function decodeLink(f: ProtoFields): OtlpLink {
  const out: OtlpLink = {};
  while (f.next()) {
    if (f.field === 1) out.traceId = f.hex('trace_id');
    else if (f.field === 2) out.spanId = f.hex('span_id');
    else if (f.field === 3) out.traceState = f.string('trace_state');
    else if (f.field === 4) attributesOf(f, out);
    else if (f.field === 5) out.droppedAttributesCount = f.uint32('dropped_attributes_count');
    else if (f.field === 6) out.flags = f.fixed32('flags');
    else f.skip();
  }
  return out;
}

/** An ExportTraceServiceResponse: empty for a full success; with partial_success when spans were refused. */
export function encodeExportTraceServiceResponse(partial?: { rejectedSpans: number; errorMessage: string }): Buffer {
  return encodePartialSuccess(partial && { rejected: partial.rejectedSpans, errorMessage: partial.errorMessage });
}
