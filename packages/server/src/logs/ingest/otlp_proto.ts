/**
 * OTLP logs in the binary protobuf encoding, decoded over the shared OTLP protobuf reader
 * (core/otlp/protobuf.ts: typed fields, KeyValue, AnyValue, Resource, InstrumentationScope) into the
 * same {@link ExportLogsServiceRequest} the JSON path parses (int64 as decimal strings, bytes as
 * base64, trace and span ids as lowercase hex; proto3 defaults left out, oneof members kept), so one
 * mapping serves both encodings. Also the reply OTLP/HTTP sends in protobuf: ExportLogsServiceResponse.
 *
 * Field numbers (opentelemetry-proto, collector/logs/v1, logs/v1):
 *   ExportLogsServiceRequest  1 resource_logs
 *   ResourceLogs              1 resource, 2 scope_logs, 3 schema_url
 *   ScopeLogs                 1 scope, 2 log_records, 3 schema_url
 *   LogRecord                 1 time_unix_nano (fixed64), 2 severity_number, 3 severity_text,
 *                             5 body, 6 attributes, 7 dropped_attributes_count, 8 flags (fixed32),
 *                             9 trace_id, 10 span_id, 11 observed_time_unix_nano (fixed64),
 *                             12 event_name
 *   ExportLogsServiceResponse 1 partial_success {1 rejected_log_records, 2 error_message}
 */
import { decodeAnyValue, decodeKeyValue, decodeResource, decodeScope, encodePartialSuccess, ProtoFields } from '../../core/otlp/protobuf.js';
import { LimitError } from './limits.js';
import type { ExportLogsServiceRequest, LogRecord, ResourceLogs, ScopeLogs } from './otlp.js';

export { MAX_ANYVALUE_DEPTH } from '../../core/otlp/common.js';
export { encodeRpcStatus } from '../../core/otlp/protobuf.js';

function malformed(detail: string): LimitError {
  return new LimitError(400, `malformed OTLP protobuf ExportLogsServiceRequest: ${detail}`);
}

/** Decodes a (decompressed) binary protobuf ExportLogsServiceRequest; malformed input is a 400 {@link LimitError}. */
export function decodeExportLogsServiceRequest(buf: Buffer): ExportLogsServiceRequest {
  return ProtoFields.decode(buf, 'ExportLogsServiceRequest', malformed, (f) => {
    const resourceLogs: ResourceLogs[] = [];
    while (f.next()) {
      if (f.field === 1) resourceLogs.push(decodeResourceLogs(f.message('resource_logs', 'ResourceLogs')));
      else f.skip();
    }
    return resourceLogs.length ? { resourceLogs } : {};
  });
}

function decodeResourceLogs(f: ProtoFields): ResourceLogs {
  const out: ResourceLogs = {};
  const scopeLogs: ScopeLogs[] = [];
  while (f.next()) {
    if (f.field === 1) decodeResource(f.message('resource', 'Resource'), (out.resource ??= {}));
    else if (f.field === 2) scopeLogs.push(decodeScopeLogs(f.message('scope_logs', 'ScopeLogs')));
    else if (f.field === 3) out.schemaUrl = f.string('schema_url');
    else f.skip();
  }
  if (scopeLogs.length) out.scopeLogs = scopeLogs;
  return out;
}

function decodeScopeLogs(f: ProtoFields): ScopeLogs {
  const out: ScopeLogs = {};
  const logRecords: LogRecord[] = [];
  while (f.next()) {
    if (f.field === 1) decodeScope(f.message('scope', 'InstrumentationScope'), (out.scope ??= {}));
    else if (f.field === 2) logRecords.push(decodeLogRecord(f.message('log_records', 'LogRecord')));
    else if (f.field === 3) out.schemaUrl = f.string('schema_url');
    else f.skip();
  }
  if (logRecords.length) out.logRecords = logRecords;
  return out;
}

function decodeLogRecord(f: ProtoFields): LogRecord {
  const out: LogRecord = {};
  while (f.next()) {
    switch (f.field) {
      case 1:
        out.timeUnixNano = f.fixed64('time_unix_nano');
        break;
      case 2:
        out.severityNumber = f.int32('severity_number');
        break;
      case 3:
        out.severityText = f.string('severity_text');
        break;
      case 5:
        out.body = decodeAnyValue(f.message('body', 'AnyValue'), 0);
        break;
      case 6:
        (out.attributes ??= []).push(decodeKeyValue(f.message('attributes', 'KeyValue'), 0));
        break;
      case 7:
        out.droppedAttributesCount = f.uint32('dropped_attributes_count');
        break;
      case 8:
        out.flags = f.fixed32('flags');
        break;
      case 9:
        out.traceId = f.bytes('trace_id').toString('hex');
        break;
      case 10:
        out.spanId = f.bytes('span_id').toString('hex');
        break;
      case 11:
        out.observedTimeUnixNano = f.fixed64('observed_time_unix_nano');
        break;
      case 12:
        out.eventName = f.string('event_name');
        break;
      default:
        f.skip();
    }
  }
  // proto3 scalars at their defaults are as good as absent; leave them out as OTLP/JSON would.
  if (out.timeUnixNano === '0') delete out.timeUnixNano;
  if (out.observedTimeUnixNano === '0') delete out.observedTimeUnixNano;
  if (out.severityNumber === 0) delete out.severityNumber;
  if (out.severityText === '') delete out.severityText;
  if (out.traceId === '') delete out.traceId;
  if (out.spanId === '') delete out.spanId;
  if (out.flags === 0) delete out.flags;
  if (out.droppedAttributesCount === 0) delete out.droppedAttributesCount;
  if (out.eventName === '') delete out.eventName;
  return out;
}

/**
 * An ExportLogsServiceResponse: empty for a full success; with partial_success when some records
 * were refused (or, with 0 refused, to carry a warning).
 */
export function encodeExportLogsServiceResponse(partial?: { rejectedLogRecords: number; errorMessage: string }): Buffer {
  return encodePartialSuccess(partial && { rejected: partial.rejectedLogRecords, errorMessage: partial.errorMessage });
}
