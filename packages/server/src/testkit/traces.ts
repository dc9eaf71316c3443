/**
 * Traces for tests: a small hand-drawn set whose query results are computed by hand in the tests
 * (three traces, three services, a parent/child tree with errors and a slow pool acquire, a trace
 * whose root never arrived), and a generator of many demo-shaped traces for load and pacing tests.
 */
import type { Attributes, Span, SpanKind, StatusCode } from '../traces/storage/types.js';

/** The start of the hand-drawn traces: a multiple of 10 s, so metrics steps align with it. */
export const T0_MS = 1_700_000_000_000;
const T0 = BigInt(T0_MS) * 1_000_000n;
const MS = 1_000_000n;

export const SHOP: Attributes = { 'service.name': 'shop', 'deployment.environment': 'prod', region: 'eu' };
export const PAYMENT: Attributes = { 'service.name': 'payment', 'deployment.environment': 'prod' };

export const TRACE_A = 'a'.repeat(32);
export const TRACE_B = 'b'.repeat(32);
export const TRACE_C = 'c'.repeat(32);

interface SpanSpec {
  id: string;
  parent: string;
  name: string;
  kind: SpanKind;
  resource: Attributes;
  startMs: number;
  durMs: number;
  status?: StatusCode;
  message?: string;
  attrs?: Attributes;
  events?: { atMs: number; name: string; attrs: Attributes }[];
  links?: { traceId: string; spanId: string; attrs: Attributes }[];
}

function span(traceId: string, s: SpanSpec): Span {
  const start = T0 + BigInt(s.startMs) * MS;
  return {
    traceId,
    spanId: s.id.padStart(16, '0'),
    parentSpanId: s.parent === '' ? '' : s.parent.padStart(16, '0'),
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: start,
    endTimeUnixNano: start + BigInt(s.durMs) * MS,
    status: { code: s.status ?? 'unset', message: s.message ?? '' },
    attributes: s.attrs ?? {},
    resource: s.resource,
    scope: { name: 'vigil-test', version: '1.0.0' },
    events: (s.events ?? []).map((e) => ({ timeUnixNano: start + BigInt(e.atMs) * MS, name: e.name, attributes: e.attrs })),
    links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId.padStart(16, '0'), attributes: l.attrs })),
  };
}

/**
 * Trace A, a failing checkout across shop and payment:
 * ```
 * A1 GET /checkout (shop, server, 500 ms)
 * └ A2 checkout (shop, internal, 450 ms, error "pool timeout")
 *   ├ A3 db.pool.acquire (shop, internal, 400 ms, error; event "exception")
 *   └ A4 POST /pay (shop, client, 20 ms, ok)
 *     └ A5 pay (payment, server, 15 ms)
 *       └ A6 SELECT (payment, client, 5 ms)
 * ```
 */
export const traceA: Span[] = (
  [
    {
      id: 'a1',
      parent: '',
      name: 'GET /checkout',
      kind: 'server',
      resource: SHOP,
      startMs: 0,
      durMs: 500,
      attrs: { 'http.method': 'GET', 'http.status_code': 200 },
    },
    {
      id: 'a2',
      parent: 'a1',
      name: 'checkout',
      kind: 'internal',
      resource: SHOP,
      startMs: 10,
      durMs: 450,
      status: 'error',
      message: 'pool timeout',
      attrs: { 'cart.items': 3 },
    },
    {
      id: 'a3',
      parent: 'a2',
      name: 'db.pool.acquire',
      kind: 'internal',
      resource: SHOP,
      startMs: 20,
      durMs: 400,
      status: 'error',
      attrs: { 'db.pool.wait_ms': 400 },
      events: [{ atMs: 400, name: 'exception', attrs: { 'exception.type': 'PoolTimeout', 'exception.message': 'timeout acquiring a connection' } }],
    },
    {
      id: 'a4',
      parent: 'a2',
      name: 'POST /pay',
      kind: 'client',
      resource: SHOP,
      startMs: 430,
      durMs: 20,
      status: 'ok',
      attrs: { 'http.method': 'POST', 'peer.service': 'payment' },
    },
    {
      id: 'a5',
      parent: 'a4',
      name: 'pay',
      kind: 'server',
      resource: PAYMENT,
      startMs: 432,
      durMs: 15,
      attrs: { 'http.method': 'POST', amount: 12.5, tags: ['x', 'y'] },
    },
    {
      id: 'a6',
      parent: 'a5',
      name: 'SELECT',
      kind: 'client',
      resource: PAYMENT,
      startMs: 435,
      durMs: 5,
      attrs: { 'db.system': 'postgresql', 'foo bar': 'baz' },
    },
  ] satisfies SpanSpec[]
).map((s) => span(TRACE_A, s));

/**
 * Trace B, a healthy page view in shop alone, one second later:
 * ```
 * B1 GET / (shop, server, 20 ms)
 * ├ B2 render (shop, internal, 10 ms)
 * └ B3 cache.get (shop, client, 2 ms, span attribute region "us")
 * ```
 */
export const traceB: Span[] = (
  [
    { id: 'b1', parent: '', name: 'GET /', kind: 'server', resource: SHOP, startMs: 1000, durMs: 20, attrs: { 'http.method': 'GET', 'http.status_code': 200 } },
    { id: 'b2', parent: 'b1', name: 'render', kind: 'internal', resource: SHOP, startMs: 1001, durMs: 10 },
    { id: 'b3', parent: 'b1', name: 'cache.get', kind: 'client', resource: SHOP, startMs: 1012, durMs: 2, attrs: { 'cache.hit': true, region: 'us' } },
  ] satisfies SpanSpec[]
).map((s) => span(TRACE_B, s));

/**
 * Trace C, a slow payment whose caller's spans never arrived (no root), two seconds in:
 * ```
 * C1 pay (payment, server, 1 s, error; parent ffff… missing; a link to A4)
 * └ C2 SELECT (payment, client, 900 ms)
 * ```
 */
export const traceC: Span[] = (
  [
    {
      id: 'c1',
      parent: 'ffff',
      name: 'pay',
      kind: 'server',
      resource: PAYMENT,
      startMs: 2000,
      durMs: 1000,
      status: 'error',
      attrs: { 'http.method': 'POST', amount: 99 },
      links: [{ traceId: 'a'.repeat(32), spanId: 'a4', attrs: { 'link.kind': 'retry-of' } }],
    },
    { id: 'c2', parent: 'c1', name: 'SELECT', kind: 'client', resource: PAYMENT, startMs: 2005, durMs: 900, attrs: { 'db.system': 'postgresql' } },
  ] satisfies SpanSpec[]
).map((s) => span(TRACE_C, s));

export const fixtureTraces: Span[][] = [traceA, traceB, traceC];

/** Deterministic pseudo-random numbers (mulberry32), so generated traces are the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = ['shop', 'payment', 'inventory', 'auth', 'mailer'];
const resources = new Map(SERVICES.map((s) => [s, { 'service.name': s, 'deployment.environment': 'prod' } as Attributes]));

/**
 * `count` traces shaped like the demo's: about 10 spans each across 2–5 services, each span a child
 * of an earlier one, 15 attributes per span, about 5% errors; one trace per `spacingMs`.
 */
export function* generateTraces(count: number, seed = 1, spacingMs = 10): Generator<Span[]> {
  const rand = rng(seed);
  for (let t = 0; t < count; t++) {
    const traceId = (t + 1).toString(16).padStart(32, '0');
    const n = 5 + Math.floor(rand() * 11);
    const services = SERVICES.slice(0, 2 + Math.floor(rand() * 4));
    const base = T0 + BigInt(t * spacingMs) * MS;
    const spans: Span[] = [];
    for (let i = 0; i < n; i++) {
      const parent = i === 0 ? -1 : Math.floor(rand() * i);
      const start = base + BigInt(i) * MS;
      const attributes: Attributes = {};
      for (let k = 0; k < 15; k++) attributes[`attr.${k}`] = k % 3 === 0 ? Math.floor(rand() * 100) : `v${Math.floor(rand() * 20)}`;
      spans.push({
        traceId,
        spanId: `${t.toString(16).padStart(8, '0')}${i.toString(16).padStart(8, '0')}`,
        parentSpanId: parent < 0 ? '' : spans[parent]!.spanId,
        name: i === 0 ? 'GET /checkout' : `op-${Math.floor(rand() * 8)}`,
        kind: i === 0 ? 'server' : 'internal',
        startTimeUnixNano: start,
        endTimeUnixNano: start + BigInt(1 + Math.floor(rand() * 200)) * MS,
        status: { code: rand() < 0.05 ? 'error' : 'unset', message: '' },
        attributes,
        resource: resources.get(services[Math.floor(rand() * services.length)]!)!,
        scope: { name: 'gen', version: '1' },
        events: [],
        links: [],
      });
    }
    yield spans;
  }
}
