/**
 * The state-changing endpoints and the body types each takes, in one table, so the router can
 * refuse a browser's cross-origin request (see web_policy.ts) and a body it would misread with 415,
 * as Alertmanager answers. A page can send only `text/plain`, form or multipart bodies without a
 * CORS preflight; an endpoint that does not list them cannot be fed by one even without `Origin`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Refusal } from './web_policy.js';

/** Stands for "no Content-Type header" in the table. */
export const NO_CONTENT_TYPE = '';
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const PROTOBUF = ['application/x-protobuf', 'application/protobuf'];
/** For an endpoint that refuses other types itself, in its protocol's error format. */
const CHECKED_BY_HANDLER: readonly string[] = [];

/**
 * Route pattern → accepted Content-Types (the part before `;`). Missing Content-Type is accepted
 * where real clients omit it or a default is documented (curl's bare `-X POST`, protobuf pushes).
 */
const STATE_CHANGING: Readonly<Record<string, readonly string[]>> = {
  // `curl -X POST` sends none, `curl -d ''` a form type; neither carries a body we read.
  '/-/reload': [NO_CONTENT_TYPE, FORM],
  '/-/quit': [NO_CONTENT_TYPE, FORM],
  // The login page's forms (login.ts); a cross-site login or logout is refused by Origin.
  '/login': [FORM],
  '/logout': [NO_CONTENT_TYPE, FORM],
  '/api/v1/admin/tsdb/flush': [NO_CONTENT_TYPE, FORM],
  // Prometheus and vmagent send application/x-protobuf (v2 adds `;proto=...`).
  '/api/v1/write': [NO_CONTENT_TYPE, ...PROTOBUF],
  // promtail sends protobuf (the default when absent) or JSON.
  '/loki/api/v1/push': [NO_CONTENT_TYPE, ...PROTOBUF, JSON_TYPE],
  // OTLP answers its own 415 (log_ingest.ts), as a google.rpc.Status in the client's encoding.
  '/v1/logs': CHECKED_BY_HANDLER,
  // OTLP traces likewise (trace_ingest.ts).
  '/v1/traces': CHECKED_BY_HANDLER,
  // OTLP metrics likewise (metric_ingest.ts), on both paths.
  '/v1/metrics': CHECKED_BY_HANDLER,
  '/api/v1/otlp/v1/metrics': CHECKED_BY_HANDLER,
  // Zipkin v2: zipkin-js, Brave and the OpenTelemetry Zipkin exporter send application/json.
  '/api/v2/spans': [JSON_TYPE],
  // JSON lines: `fetch` with a string body and many shippers say text/plain.
  '/api/v1/logs/jsonl': [NO_CONTENT_TYPE, 'application/x-ndjson', 'application/jsonl', 'application/x-jsonlines', JSON_TYPE, 'text/plain'],
  // amtool, Grafana and Prometheus send application/json.
  '/api/v2/alerts': [JSON_TYPE],
  '/api/v2/silences': [JSON_TYPE],
  '/api/v2/silence/:id': [NO_CONTENT_TYPE],
  '/api/v1/alertmanager/acknowledge': [JSON_TYPE],
  '/api/v1/alertmanager/acknowledge/:fingerprint': [NO_CONTENT_TYPE],
  '/api/v1/alertmanager/resolve': [JSON_TYPE],
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request to `route` changes state (reads that take a POST form, like `/api/v1/query`, do not). */
export function isStateChanging(method: string, route: string): boolean {
  return !SAFE_METHODS.has(method) && route in STATE_CHANGING;
}

/** The media type of a Content-Type header, lower-cased, without parameters. */
export function mediaType(headers: IncomingHttpHeaders): string {
  return String(headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

/** A 415 for a body type `route` does not take; undefined when it does (or the route is not in the table). */
export function checkBodyType(route: string, headers: IncomingHttpHeaders): Refusal | undefined {
  const accepted = STATE_CHANGING[route];
  if (!accepted || accepted === CHECKED_BY_HANDLER) return undefined;
  const type = mediaType(headers);
  if (accepted.includes(type)) return undefined;
  const want = accepted.map((t) => (t === NO_CONTENT_TYPE ? 'none' : t)).join(', ');
  return { status: 415, message: `unsupported Content-Type ${JSON.stringify(type || 'none')} for ${route}: want ${want}` };
}

/** The two encodings OTLP over HTTP has. */
export type OtlpEncoding = 'json' | 'protobuf';

/**
 * The OTLP encoding a request's Content-Type names, or undefined for any other type (each signal
 * answers that with a 415 in its own error type, naming the signal).
 */
export function otlpEncodingOf(headers: IncomingHttpHeaders): { encoding: OtlpEncoding | undefined; contentType: string } {
  const contentType = String(headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (contentType === 'application/json') return { encoding: 'json', contentType };
  if (contentType === 'application/x-protobuf' || contentType === 'application/protobuf') return { encoding: 'protobuf', contentType };
  return { encoding: undefined, contentType };
}
