/**
 * A test-side OTLP/HTTP traces receiver: an http server on 127.0.0.1 taking what the real
 * OpenTelemetry exporters send to `/v1/traces`, protobuf (decoded with the OTLP message classes
 * that ship in `@opentelemetry/otlp-transformer`) or JSON, flattened to one record per span.
 * Vigil's own receiver is server code; this one only lets the SDK's tests see their spans.
 */
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { listen } from '../testing.js';

/** One received span. */
export interface ReceivedSpan {
  readonly service: string;
  readonly resource: Readonly<Record<string, unknown>>;
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP's numbering: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly durationMs: number;
  readonly attributes: Readonly<Record<string, unknown>>;
  /** OTLP's numbering: 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string };
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Readonly<Record<string, unknown>> }>;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** The URL to export to (`…/v1/traces`). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Export requests seen, whatever their answer. */
  readonly requests: Array<{ contentType: string; bytes: number }>;
  /** Answer every request with this status from now on (default 200). */
  respondWith(status: number): void;
  /** Waits until `pred` holds for the spans received, or fails after `timeoutMs`. */
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, what: string, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface Decoder {
  decode(b: Uint8Array): unknown;
}
const generated = createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: Decoder } } } } };
};
const ExportTraceServiceRequest = generated.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

type Any = Record<string, unknown>;

/** An id: bytes from protobuf, hex from JSON. */
function hex(v: unknown): string {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  return typeof v === 'string' ? v : '';
}

/** Nanoseconds: a protobufjs Long, a number, or a JSON string. */
function nanos(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'object' && 'low' in v && 'high' in v) {
    const l = v as { low: number; high: number };
    return (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
  }
  return BigInt(String(v));
}

function anyValue(v: unknown): unknown {
  const a = (v ?? {}) as Any;
  if (a['stringValue'] !== undefined && a['stringValue'] !== null) return a['stringValue'];
  if (a['boolValue'] !== undefined && a['boolValue'] !== null) return a['boolValue'];
  if (a['intValue'] !== undefined && a['intValue'] !== null) return Number(nanos(a['intValue']));
  if (a['doubleValue'] !== undefined && a['doubleValue'] !== null) return a['doubleValue'];
  if (a['arrayValue']) return ((a['arrayValue'] as Any)['values'] as unknown[] | undefined)?.map(anyValue) ?? [];
  return undefined;
}

function attrs(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of (list as Any[] | undefined) ?? []) out[String(kv['key'])] = anyValue(kv['value']);
  return out;
}

/** Flattens an ExportTraceServiceRequest (decoded protobuf or parsed JSON) to spans. */
export function flattenTraces(req: unknown): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of ((req as Any)['resourceSpans'] as Any[] | undefined) ?? []) {
    const resource = attrs(((rs['resource'] ?? {}) as Any)['attributes']);
    for (const ss of (rs['scopeSpans'] as Any[] | undefined) ?? []) {
      for (const s of (ss['spans'] as Any[] | undefined) ?? []) {
        const status = (s['status'] ?? {}) as Any;
        out.push({
          service: String(resource['service.name'] ?? ''),
          resource,
          traceId: hex(s['traceId']),
          spanId: hex(s['spanId']),
          parentSpanId: hex(s['parentSpanId']),
          name: String(s['name']),
          kind: Number(s['kind'] ?? 0),
          durationMs: Number(nanos(s['endTimeUnixNano']) - nanos(s['startTimeUnixNano'])) / 1e6,
          attributes: attrs(s['attributes']),
          status: { code: Number(status['code'] ?? 0), message: String(status['message'] ?? '') },
          events: ((s['events'] as Any[] | undefined) ?? []).map((e) => ({ name: String(e['name']), attributes: attrs(e['attributes']) })),
        });
      }
    }
  }
  return out;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const b = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(b) : b;
}

/** Starts a receiver on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: Array<{ contentType: string; bytes: number }> = [];
  let status = 200;
  const server = createServer((req, res) => {
    void (async () => {
      const b = await body(req);
      const contentType = String(req.headers['content-type'] ?? '');
      requests.push({ contentType, bytes: b.length });
      if (req.method !== 'POST' || req.url !== '/v1/traces') return void res.writeHead(404).end('not found');
      if (status !== 200) return void res.writeHead(status, { 'content-type': 'text/plain' }).end(`answering ${status}`);
      if (contentType.startsWith('application/x-protobuf')) {
        spans.push(...flattenTraces(ExportTraceServiceRequest.decode(b)));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } else if (contentType.startsWith('application/json')) {
        spans.push(...flattenTraces(JSON.parse(b.toString('utf8'))));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else res.writeHead(415).end('unsupported content type');
    })().catch((err: unknown) => res.writeHead(400).end(String(err)));
  });
  const { url, close } = await listen(server);
  return {
    url: `${url}/v1/traces`,
    spans,
    requests,
    respondWith: (s) => void (status = s),
    async waitFor(pred, what, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (!pred(spans)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}; received ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return spans;
    },
    close,
  };
}
