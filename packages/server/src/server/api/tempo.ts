/**
 * Tempo's trace-by-id API, so Grafana's Tempo data source and Tempo's own clients read Vigil:
 * `GET /api/traces/<id>` answers `{"batches": [ResourceSpans…]}` and `GET /api/v2/traces/<id>`
 * `{"trace": {"resourceSpans": […]}, "status": "COMPLETE"}`, in OTLP/JSON (hex ids), or protobuf
 * when the client sends `Accept: application/protobuf` (tempopb.Trace; for v2 a
 * TraceByIDResponse whose field 1 is the trace). An unknown id is a 404; an id that is not hex of
 * up to 32 digits is a 400. Shorter ids are left-padded with zeros, as Tempo does.
 */
import type { TraceQueryable } from '../../traces/storage/interface.js';
import { encodeTracesData, toOtlpJson } from '../../traces/ingest/otlp_encode.js';
import type { ApiRequest, ApiResult, Router } from './http.js';

/** Counters for self-metrics. */
export interface TempoApiStats {
  traceLookups: number;
}

function plain(status: number, message: string): ApiResult {
  return { kind: 'raw', status, body: message + '\n', contentType: 'text/plain; charset=utf-8' };
}

/** The 32-digit lowercase id of a path parameter, or undefined when it is not a trace id. */
export function normalizeTraceId(id: string): string | undefined {
  if (!/^[0-9a-fA-F]{1,32}$/.test(id)) return undefined;
  const padded = id.toLowerCase().padStart(32, '0');
  return /^0+$/.test(padded) ? undefined : padded;
}

function wantsProtobuf(req: ApiRequest): boolean {
  return String(req.headers['accept'] ?? '')
    .split(',')
    .some((t) => /^application\/(x-)?protobuf$/.test(t.split(';')[0]!.trim().toLowerCase()));
}

/** Registers the trace-by-id routes. */
export function registerTempoApi(router: Router, store: TraceQueryable): TempoApiStats {
  const stats: TempoApiStats = { traceLookups: 0 };
  const byId =
    (v2: boolean) =>
    (req: ApiRequest): ApiResult => {
      stats.traceLookups++;
      const id = normalizeTraceId(req.params['id'] ?? '');
      if (!id) return plain(400, `invalid trace id ${JSON.stringify(req.params['id'] ?? '')}: want up to 32 hex digits, not all zero`);
      const spans = store.trace(id);
      if (spans.length === 0) return plain(404, `trace not found: ${id}`);
      if (wantsProtobuf(req)) {
        const trace = encodeTracesData(spans);
        // TraceByIDResponse: field 1 the trace (status COMPLETE is the default, 0, and left out).
        const body = v2 ? Buffer.concat([Buffer.from([0x0a]), varint(trace.length), trace]) : trace;
        return { kind: 'raw', status: 200, body, contentType: 'application/protobuf' };
      }
      const resourceSpans = toOtlpJson(spans);
      const data = v2 ? { trace: { resourceSpans }, status: 'COMPLETE' } : { batches: resourceSpans };
      return { kind: 'raw', status: 200, body: JSON.stringify(data), contentType: 'application/json' };
    };
  router.on('GET', '/api/traces/:id', byId(false));
  router.on('GET', '/api/v2/traces/:id', byId(true));
  return stats;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
