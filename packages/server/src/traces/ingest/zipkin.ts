/**
 * Zipkin v2 JSON spans (`POST /api/v2/spans`, a JSON array) into the span model, mapped as the
 * OpenTelemetry collector's Zipkin receiver maps them: `localEndpoint.serviceName` is the resource's
 * `service.name`; tags are string attributes; the `error` tag makes the status an error with the
 * tag's value as its message (`otel.status_code`/`otel.status_description` tags are honoured too);
 * annotations are events; the remote endpoint becomes `peer.service`, `net.peer.ip`, `net.peer.port`.
 * 64-bit trace ids are left-padded to 128 bits. A body that is not an array of span objects is a
 * 400 naming the index and field, nothing written; a span over a limit is refused alone.
 */
import type { Attributes, Span, SpanEvent, SpanKind, StatusCode } from '../storage/types.js';
import { TraceIngestError, type TraceLimits } from './limits.js';
import type { DecodedTraces } from './otlp.js';

interface ZipkinEndpoint {
  serviceName?: unknown;
  ipv4?: unknown;
  ipv6?: unknown;
  port?: unknown;
}

const KINDS: Record<string, SpanKind> = { CLIENT: 'client', SERVER: 'server', PRODUCER: 'producer', CONSUMER: 'consumer' };
const HEX = /^[0-9a-f]+$/;

class Refused extends Error {}

function bad(path: string, want: string): TraceIngestError {
  return new TraceIngestError(400, `invalid Zipkin span at ${path}: want ${want}`);
}

function id(v: unknown, path: string, lengths: number[], optional = false): string {
  if (v === undefined || v === null || v === '') {
    if (optional) return '';
    throw bad(path, `${lengths.join(' or ')} hex digits`);
  }
  if (typeof v !== 'string') throw bad(path, 'a hex string');
  const s = v.toLowerCase();
  if (!HEX.test(s) || !lengths.includes(s.length)) throw bad(path, `${lengths.join(' or ')} hex digits, got ${JSON.stringify(v.slice(0, 40))}`);
  if (/^0+$/.test(s)) throw new Refused(`${path} is all zeros`);
  return s;
}

function micros(v: unknown, path: string, optional: boolean): bigint | undefined {
  if (v === undefined || v === null) {
    if (optional) return undefined;
    throw bad(path, 'microseconds since the epoch');
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(path, 'a non-negative number of microseconds');
  return BigInt(Math.round(v)) * 1000n;
}

/** Decodes a Zipkin v2 JSON body into spans, checking the limits; writes nothing. */
export function decodeZipkinJson(body: string, limits: TraceLimits): DecodedTraces {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new TraceIngestError(400, `invalid Zipkin JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new TraceIngestError(400, 'invalid Zipkin body: want a JSON array of spans (Zipkin v2)');
  const spans: Span[] = [];
  const reasons = new Map<string, number>();
  const resources = new Map<string, Attributes>();
  const checkValue = (s: string, what: string): void => {
    if (Buffer.byteLength(s) > limits.maxAttributeValueBytes)
      throw new Refused(`${what} is longer than max_attribute_value_bytes (${limits.maxAttributeValueBytes})`);
  };
  parsed.forEach((raw: unknown, i) => {
    const p = `[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(p, 'a span object');
    const z = raw as Record<string, unknown>;
    try {
      const traceId = id(z['traceId'], `${p}.traceId`, [16, 32]).padStart(32, '0');
      const spanId = id(z['id'], `${p}.id`, [16]);
      const parentSpanId = id(z['parentId'], `${p}.parentId`, [16], true);
      const start = micros(z['timestamp'], `${p}.timestamp`, false)!;
      const duration = micros(z['duration'], `${p}.duration`, true) ?? 0n;
      const kindText = z['kind'];
      if (kindText !== undefined && (typeof kindText !== 'string' || !(kindText in KINDS))) throw bad(`${p}.kind`, 'CLIENT, SERVER, PRODUCER or CONSUMER');
      const name = z['name'] ?? '';
      if (typeof name !== 'string') throw bad(`${p}.name`, 'a string');
      const local = (z['localEndpoint'] ?? {}) as ZipkinEndpoint;
      const remote = (z['remoteEndpoint'] ?? {}) as ZipkinEndpoint;
      if (typeof local !== 'object' || typeof remote !== 'object') throw bad(`${p}.localEndpoint`, 'an endpoint object');
      const service = typeof local.serviceName === 'string' && local.serviceName ? local.serviceName : 'unknown_service';
      let resource = resources.get(service);
      if (!resource) resources.set(service, (resource = { 'service.name': service }));

      const tags = (z['tags'] ?? {}) as Record<string, unknown>;
      if (typeof tags !== 'object' || Array.isArray(tags)) throw bad(`${p}.tags`, 'an object of strings');
      const attributes: Attributes = {};
      let code: StatusCode = 'unset';
      let message = '';
      for (const [k, v] of Object.entries(tags)) {
        if (typeof v !== 'string') throw bad(`${p}.tags.${k}`, 'a string');
        checkValue(v, `tag ${k}`);
        if (k === 'error') {
          code = 'error';
          message = v === 'true' ? '' : v;
        } else if (k === 'otel.status_code') {
          code = v === 'ERROR' ? 'error' : v === 'OK' ? 'ok' : code;
        } else if (k === 'otel.status_description') message = v;
        else attributes[k] = v;
      }
      if (typeof remote.serviceName === 'string' && remote.serviceName) attributes['peer.service'] = remote.serviceName;
      const ip = typeof remote.ipv4 === 'string' ? remote.ipv4 : typeof remote.ipv6 === 'string' ? remote.ipv6 : undefined;
      if (ip) attributes['net.peer.ip'] = ip;
      if (typeof remote.port === 'number') attributes['net.peer.port'] = remote.port;
      if (Object.keys(attributes).length > limits.maxAttributesPerSpan)
        throw new Refused(`more than max_attributes_per_span (${limits.maxAttributesPerSpan}) tags`);

      const annotations = z['annotations'] ?? [];
      if (!Array.isArray(annotations)) throw bad(`${p}.annotations`, 'an array');
      if (annotations.length > limits.maxEventsPerSpan) throw new Refused(`more than max_events_per_span (${limits.maxEventsPerSpan}) annotations`);
      const events: SpanEvent[] = annotations.map((a: unknown, j) => {
        const ap = `${p}.annotations[${j}]`;
        if (typeof a !== 'object' || a === null) throw bad(ap, 'an annotation object');
        const { timestamp, value } = a as { timestamp?: unknown; value?: unknown };
        if (typeof value !== 'string') throw bad(`${ap}.value`, 'a string');
        checkValue(value, 'annotation value');
        return { timeUnixNano: micros(timestamp, `${ap}.timestamp`, false)!, name: value, attributes: {} };
      });
      spans.push({
        traceId,
        spanId,
        parentSpanId,
        name,
        kind: kindText === undefined ? 'unspecified' : KINDS[kindText as string]!,
        startTimeUnixNano: start,
        endTimeUnixNano: start + duration,
        status: { code, message },
        attributes,
        resource,
        scope: { name: '', version: '' },
        events,
        links: [],
      });
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      reasons.set(err.message, (reasons.get(err.message) ?? 0) + 1);
    }
  });
  let rejected = 0;
  for (const n of reasons.values()) rejected += n;
  return { spans, rejected, reasons: [...reasons].map(([m, n]) => `${n} span${n === 1 ? '' : 's'} refused: ${m}`) };
}
