/**
 * Three hand-made traces for the query API tests, sent through `POST /v1/traces` as OTLP/JSON, with
 * times relative to `base` (unix seconds) so expectations can be computed by hand:
 * - T1 at base: shop `POST /checkout` (server, 1000 ms, error, http.status_code 500) with children
 *   shop `db.pool.acquire` (client, 800 ms, error, db.system postgres) and payment `charge`
 *   (server, 100 ms, ok);
 * - T2 at base+60 s: shop `GET /products` (server, 50 ms, http.status_code 200) with child shop
 *   `SELECT products` (client, 20 ms, db.system postgres);
 * - T3 at base+120 s: payment `POST /charge` (server, 300 ms, unset, http.status_code 200).
 */
export const T1 = '11111111111111111111111111111111';
export const T2 = '22222222222222222222222222222222';
export const T3 = '33333333333333333333333333333333';

interface FixtureSpan {
  trace: string;
  id: string;
  parent: string;
  service: string;
  name: string;
  kind: number;
  offsetMs: number;
  durMs: number;
  status: number;
  attrs: Record<string, string | number>;
}

export function fixtureSpans(): FixtureSpan[] {
  return [
    {
      trace: T1,
      id: '1000000000000001',
      parent: '',
      service: 'shop',
      name: 'POST /checkout',
      kind: 2,
      offsetMs: 0,
      durMs: 1000,
      status: 2,
      attrs: { 'http.status_code': 500 },
    },
    {
      trace: T1,
      id: '1000000000000002',
      parent: '1000000000000001',
      service: 'shop',
      name: 'db.pool.acquire',
      kind: 3,
      offsetMs: 10,
      durMs: 800,
      status: 2,
      attrs: { 'db.system': 'postgres' },
    },
    {
      trace: T1,
      id: '1000000000000003',
      parent: '1000000000000001',
      service: 'payment',
      name: 'charge',
      kind: 2,
      offsetMs: 850,
      durMs: 100,
      status: 1,
      attrs: {},
    },
    {
      trace: T2,
      id: '2000000000000001',
      parent: '',
      service: 'shop',
      name: 'GET /products',
      kind: 2,
      offsetMs: 60_000,
      durMs: 50,
      status: 0,
      attrs: { 'http.status_code': 200 },
    },
    {
      trace: T2,
      id: '2000000000000002',
      parent: '2000000000000001',
      service: 'shop',
      name: 'SELECT products',
      kind: 3,
      offsetMs: 60_010,
      durMs: 20,
      status: 0,
      attrs: { 'db.system': 'postgres' },
    },
    {
      trace: T3,
      id: '3000000000000001',
      parent: '',
      service: 'payment',
      name: 'POST /charge',
      kind: 2,
      offsetMs: 120_000,
      durMs: 300,
      status: 0,
      attrs: { 'http.status_code': 200 },
    },
  ];
}

/** The fixture as one OTLP/JSON ExportTraceServiceRequest, one ResourceSpans per span. */
export function fixtureOtlpJson(baseSec: number): string {
  const ns = (ms: number): string => (BigInt(baseSec) * 1_000_000_000n + BigInt(ms) * 1_000_000n).toString();
  const resourceSpans = fixtureSpans().map((s) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: s.service } }] },
    scopeSpans: [
      {
        scope: { name: 'fixture' },
        spans: [
          {
            traceId: s.trace,
            spanId: s.id,
            ...(s.parent ? { parentSpanId: s.parent } : {}),
            name: s.name,
            kind: s.kind,
            startTimeUnixNano: ns(s.offsetMs),
            endTimeUnixNano: ns(s.offsetMs + s.durMs),
            status: { code: s.status },
            attributes: Object.entries(s.attrs).map(([key, v]) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } })),
          },
        ],
      },
    ],
  }));
  return JSON.stringify({ resourceSpans });
}

/** Posts the fixture to a started Vigil; returns the base time used. */
export async function ingestFixture(url: string, baseSec = Math.floor(Date.now() / 1000) - 600): Promise<number> {
  const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: fixtureOtlpJson(baseSec) });
  const text = await res.text();
  if (res.status !== 200 || text !== '{}') throw new Error(`fixture ingest failed: ${res.status} ${text}`);
  return baseSec;
}
