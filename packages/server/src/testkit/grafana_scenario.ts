/**
 * The checkout story the Grafana replays run against (tempo_grafana.test.ts): three traces, and
 * the log lines the two services wrote while serving them, with times `base` (ms) onwards.
 *
 * ```
 * A (slow, failed): frontend GET /checkout   server 1200 ms, error
 *                   └ frontend POST /pay       client 1000 ms
 *                     └ payment charge         server  900 ms, error
 *                       └ payment db.pool.acquire client 800 ms, error, db.system postgresql, db.name payments
 * B (fast):         frontend GET /checkout   server   80 ms
 *                   └ frontend POST /pay       client   50 ms
 *                     └ payment charge         server   40 ms
 *                       └ payment SELECT orders client   5 ms, db.system postgresql, db.name payments
 * C:                frontend GET /products   server   30 ms
 * ```
 * payment logs through the Loki push API, JSON lines carrying trace_id and span_id (as the SDK
 * writes them); frontend through OTLP logs, the ids in the record (Loki 3 keeps them as structured
 * metadata, not in the line).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeTracesData } from '../traces/ingest/otlp_encode.js';
import type { Attributes, Span, SpanKind, StatusCode } from '../traces/storage/types.js';
import { exited, freePort, spawnVigil, tempDir, waitFor, type VigilProcess } from './helpers.js';

const MS = 1_000_000n;
export const TRACE_A = 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1';
export const TRACE_B = 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2';
export const TRACE_C = 'c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3';
/** Span ids: the trace's letter and the span's depth. */
export const spanIdOf = (trace: string, depth: number): string => `${trace[0]}${depth}`.repeat(8);

const FRONTEND: Attributes = { 'service.name': 'frontend', 'service.namespace': 'shop', 'deployment.environment': 'prod' };
const PAYMENT: Attributes = { 'service.name': 'payment', 'service.namespace': 'billing', 'deployment.environment': 'prod' };
const DB: Attributes = { 'db.system': 'postgresql', 'db.name': 'payments' };

function span(
  base: number,
  trace: string,
  depth: number,
  name: string,
  kind: SpanKind,
  resource: Attributes,
  offsetMs: number,
  durMs: number,
  status: StatusCode,
  attributes: Attributes = {},
): Span {
  const start = BigInt(base + offsetMs) * MS;
  return {
    traceId: trace,
    spanId: spanIdOf(trace, depth),
    parentSpanId: depth === 0 ? '' : spanIdOf(trace, depth - 1),
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(durMs) * MS,
    status: { code: status, message: status === 'error' ? 'failed' : '' },
    attributes,
    resource,
    scope: { name: 'shop-instrumentation', version: '1.0.0' },
    events: [],
    links: [],
  };
}

export function scenarioSpans(base: number): Span[] {
  return [
    span(base, TRACE_A, 0, 'GET /checkout', 'server', FRONTEND, 0, 1200, 'error', { 'http.route': '/checkout' }),
    span(base, TRACE_A, 1, 'POST /pay', 'client', FRONTEND, 100, 1000, 'unset'),
    span(base, TRACE_A, 2, 'charge', 'server', PAYMENT, 150, 900, 'error'),
    span(base, TRACE_A, 3, 'db.pool.acquire', 'client', PAYMENT, 200, 800, 'error', DB),
    span(base, TRACE_B, 0, 'GET /checkout', 'server', FRONTEND, 5_000, 80, 'unset', { 'http.route': '/checkout' }),
    span(base, TRACE_B, 1, 'POST /pay', 'client', FRONTEND, 5_010, 50, 'unset'),
    span(base, TRACE_B, 2, 'charge', 'server', PAYMENT, 5_015, 40, 'unset'),
    span(base, TRACE_B, 3, 'SELECT orders', 'client', PAYMENT, 5_020, 5, 'unset', DB),
    span(base, TRACE_C, 0, 'GET /products', 'server', FRONTEND, 10_000, 30, 'unset', { 'http.route': '/products' }),
  ];
}

const ns = (ms: number): string => String(BigInt(ms) * MS);

/** payment's lines for the Loki push API: [time ns, JSON line]. */
export function paymentLines(base: number): [string, string][] {
  const line = (trace: string, depth: number, level: string, msg: string): string =>
    JSON.stringify({ level, msg, trace_id: trace, span_id: spanIdOf(trace, depth) });
  return [
    [ns(base + 160), line(TRACE_A, 2, 'info', 'charging card')],
    [ns(base + 1_000), line(TRACE_A, 3, 'error', 'database pool exhausted')],
    [ns(base + 1_040), line(TRACE_A, 2, 'error', 'charge failed')],
    [ns(base + 5_016), line(TRACE_B, 2, 'info', 'charging card')],
    [ns(base + 5_030), line(TRACE_B, 2, 'info', 'charged')],
  ];
}

/** frontend's lines as an OTLP/JSON ExportLogsServiceRequest, the ids in each record. */
export function frontendOtlpLogs(base: number): string {
  const record = (t: number, trace: string, body: string, severity: string): Record<string, unknown> => ({
    timeUnixNano: ns(base + t),
    severityText: severity,
    body: { stringValue: body },
    traceId: trace,
    spanId: spanIdOf(trace, 0),
  });
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'frontend' } }] },
        scopeLogs: [
          {
            logRecords: [
              record(5, TRACE_A, 'checkout started', 'INFO'),
              record(1_195, TRACE_A, 'checkout failed: payment error', 'ERROR'),
              record(5_002, TRACE_B, 'checkout started', 'INFO'),
              record(10_001, TRACE_C, 'listing products', 'INFO'),
            ],
          },
        ],
      },
    ],
  });
}

/**
 * Spawns `vigil start` with a fast-flushing metrics generator, sends the story's spans and logs
 * `base` ms onwards, and waits until the service graph has all three edges.
 */
export async function startStory(base: number): Promise<{ v: VigilProcess; stop: () => Promise<void> }> {
  const t = tempDir();
  const cfg = path.join(t.dir, 'vigil.yml');
  // service.namespace as a service-graph dimension gives Grafana's client_/server_service_namespace labels.
  fs.writeFileSync(cfg, 'traces:\n  metrics_generator:\n    flush_interval: 200ms\n    service_graph: { wait: 500ms, dimensions: [service.namespace] }\n');
  const v = await spawnVigil(path.join(t.dir, 'data'), await freePort(), ['--config', cfg]);
  const stop = async (): Promise<void> => {
    v.proc.kill('SIGTERM');
    await exited(v.proc);
    t.cleanup();
  };
  try {
    const post = async (p: string, type: string, body: string | Buffer, want: number): Promise<void> => {
      const res = await fetch(`${v.url}${p}`, { method: 'POST', headers: { 'content-type': type }, body });
      assert.equal(res.status, want, await res.text());
    };
    await post('/v1/traces', 'application/x-protobuf', encodeTracesData(scenarioSpans(base)), 200);
    const streams = [{ stream: { service_name: 'payment', env: 'prod' }, values: paymentLines(base) }];
    await post('/loki/api/v1/push', 'application/json', JSON.stringify({ streams }), 204);
    await post('/v1/logs', 'application/json', frontendOtlpLogs(base), 200);
    // The generator flushes on its own timer; the database edge is the last of the three to appear.
    const edges = async (): Promise<true | undefined> => {
      const r = (await (await fetch(`${v.url}/api/v1/query?query=traces_service_graph_request_total`)).json()) as { data: { result: unknown[] } };
      return r.data.result.length === 3 ? true : undefined;
    };
    await waitFor('the service graph', edges, 15_000, 100);
  } catch (err) {
    await stop();
    throw err;
  }
  return { v, stop };
}
