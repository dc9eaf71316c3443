import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TRACE_LIMITS, type TraceLimits } from './limits.js';
import { decodeOtlpTracesProto, mapOtlpTraces, type DecodedTraces } from './otlp.js';
import { encodeTracesData } from './otlp_encode.js';
import { decodeExportTraceServiceRequest } from './otlp_proto.js';
import { plainSpanOf } from './otlp_span_bytes.js';
import { demoTrace, rng } from '../../testkit/tracegen.js';
import type { Span } from '../storage/types.js';

/** What the general path (the whole OTLP tree, then the mapping) makes of `body`: the result, or the error's message. */
function general(body: Buffer, limits: TraceLimits): DecodedTraces | string {
  try {
    return mapOtlpTraces(decodeExportTraceServiceRequest(body), limits);
  } catch (err) {
    return (err as Error).message;
  }
}

function streamed(body: Buffer, limits: TraceLimits): DecodedTraces | string {
  try {
    return decodeOtlpTracesProto(body, limits);
  } catch (err) {
    return (err as Error).message;
  }
}

/** Demo spans with the unusual cases the plain path must hand over (or get exactly right) mixed in. */
function oddSpans(seed: number): Span[] {
  const r = rng(seed);
  const spans = [...demoTrace(r, 1_700_000_000_000_000_000n), ...demoTrace(r, 1_700_000_001_000_000_000n)];
  const edits: ((s: Span) => void)[] = [
    (s) => (s.attributes['big'] = 2 ** 53 + 2),
    (s) => (s.attributes['negative'] = -5),
    (s) => (s.attributes['ratio'] = 0.25),
    (s) => (s.attributes['list'] = [1, 'a']),
    (s) => (s.attributes['map'] = { x: 1 }),
    (s) => (s.attributes['long'] = 'x'.repeat(3000)),
    (s) => (s.attributes['x'.repeat(3000)] = 1),
    (s) => (s.attributes['__proto__'] = 'data'),
    (s) => (s.attributes['empty'] = ''),
    (s) => (s.attributes['ünïcødé'] = 'välüé'),
    (s) => (s.spanId = '0000000000000000'),
    (s) => (s.parentSpanId = '0000000000000000'),
    (s) => (s.endTimeUnixNano = s.startTimeUnixNano - 1n),
    (s) => (s.startTimeUnixNano = 0n),
    (s) => (s.status = { code: 'ok', message: 'fine' }),
    (s) => (s.kind = 'consumer'),
    (s) => (s.events = [{ timeUnixNano: s.startTimeUnixNano, name: 'e', attributes: { a: 1 } }]),
    (s) => (s.links = [{ traceId: s.traceId, spanId: s.spanId, attributes: {} }]),
    (s) => {
      for (let i = 0; i < 130; i++) s.attributes[`k${i}`] = i;
    },
  ];
  spans.forEach((s, i) => {
    if (i % 2 === 0) edits[(i / 2) % edits.length]!(s);
  });
  return spans;
}

test('the plain span path decodes exactly as the general path, on plain, odd and damaged bodies', () => {
  const limits = [DEFAULT_TRACE_LIMITS, { ...DEFAULT_TRACE_LIMITS, maxAttributesPerSpan: 16, maxAttributeValueBytes: 20 }];
  const bodies: Buffer[] = [];
  for (let seed = 1; seed <= 6; seed++) bodies.push(encodeTracesData(oddSpans(seed)));
  const r = rng(99);
  // Single bytes changed and bodies cut short: malformed input must be the same 400 (or the same spans).
  for (let i = 0; i < 400; i++) {
    const b = Buffer.from(bodies[i % bodies.length]!);
    if (i % 4 === 0) bodies.push(b.subarray(0, Math.floor(r() * b.length)));
    else {
      b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      bodies.push(b);
    }
  }
  for (const body of bodies) for (const l of limits) assert.deepEqual(streamed(body, l), general(body, l));
});

test('a span with the fields SDKs write as zeros (empty trace state, dropped counts, flags) takes the plain path', () => {
  const spans = demoTrace(rng(3), 1_700_000_000_000_000_000n);
  const body = encodeTracesData(spans);
  assert.deepEqual(streamed(body, DEFAULT_TRACE_LIMITS), general(body, DEFAULT_TRACE_LIMITS));
  // A span message with the fields an SDK writes as zeros: trace_state "", dropped counts 0, flags.
  const span = Buffer.concat([
    Buffer.from([0x0a, 16]),
    Buffer.alloc(16, 1),
    Buffer.from([0x12, 8]),
    Buffer.alloc(8, 2),
    Buffer.from([0x1a, 0, 0x2a, 1, 0x61, 0x30, 2]),
    Buffer.from([0x39, 1, 0, 0, 0, 0, 0, 0, 1, 0x41, 2, 0, 0, 0, 0, 0, 0, 1]),
    Buffer.from([0x50, 0, 0x60, 0, 0x70, 0, 0x85, 0x01, 1, 0, 0, 0, 0x7a, 0]),
  ]);
  const s = plainSpanOf(span, 0, span.length, DEFAULT_TRACE_LIMITS, {}, { name: '', version: '' });
  assert.ok(s);
  assert.equal(s.kind, 'server');
  assert.equal(s.endTimeUnixNano - s.startTimeUnixNano, 1n);
  assert.equal(s.startTimeUnixNano, (1n << 56n) + 1n);
});
