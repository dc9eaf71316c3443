/**
 * Jaeger's query API under /jaeger over real HTTP against a started Vigil, with the requests
 * Grafana's Jaeger data source sends (services, operations, search, trace by id, dependencies) and
 * the api_v3 ones, checked against hand-computed answers over the fixture traces.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../testkit/helpers.js';
import { T1, T2, T3, ingestFixture } from '../../testkit/trace_fixture.js';
import type { JaegerTrace } from './jaeger_model.js';
import { criteriaToTraceQL } from './jaeger.js';

describe('Jaeger query API', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let base = 0;
  before(async () => {
    srv = await startServer();
    base = await ingestFixture(srv.url);
  });
  after(async () => srv.stop());

  const get = async (path: string, params: Record<string, string> | [string, string][] = {}): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${srv.url}/jaeger${path}?${new URLSearchParams(params).toString()}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const us = (sec: number): string => String(sec * 1_000_000);
  const find = async (params: Record<string, string> | [string, string][]): Promise<string[]> => {
    const r = await get('/api/traces', params);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body['errors'], null);
    return (r.body['data'] as JaegerTrace[]).map((t) => t.traceID);
  };

  test('services and operations', async () => {
    const services = await get('/api/services');
    assert.deepEqual(services.body, { data: ['payment', 'shop'], total: 2, limit: 0, offset: 0, errors: null });
    assert.deepEqual((await get('/api/services/shop/operations')).body['data'], ['GET /products', 'POST /checkout', 'SELECT products', 'db.pool.acquire']);
    assert.deepEqual((await get('/api/operations', { service: 'payment' })).body['data'], [
      { name: 'POST /charge', spanKind: 'server' },
      { name: 'charge', spanKind: 'server' },
    ]);
    assert.deepEqual((await get('/api/operations', { service: 'shop', spanKind: 'client' })).body['data'], [
      { name: 'SELECT products', spanKind: 'client' },
      { name: 'db.pool.acquire', spanKind: 'client' },
    ]);
    assert.equal((await get('/api/operations', { service: 'shop', spanKind: 'sideways' })).status, 400);
    assert.equal((await get('/api/operations')).status, 400);
  });

  test('trace by id in Jaeger’s UI JSON', async () => {
    const r = await get(`/api/traces/${T1}`);
    assert.equal(r.status, 200);
    const [t] = r.body['data'] as JaegerTrace[];
    assert.equal(t!.traceID, T1);
    assert.equal(t!.spans.length, 3);
    const root = t!.spans[0]!;
    assert.equal(root.operationName, 'POST /checkout');
    assert.equal(root.startTime, base * 1_000_000);
    assert.equal(root.duration, 1_000_000);
    assert.deepEqual(root.references, []);
    assert.deepEqual(
      root.tags.find((x) => x.key === 'http.status_code'),
      { key: 'http.status_code', type: 'int64', value: 500 },
    );
    assert.ok(root.tags.some((x) => x.key === 'error' && x.value === true));
    assert.ok(root.tags.some((x) => x.key === 'span.kind' && x.value === 'server'));
    const db = t!.spans.find((s) => s.operationName === 'db.pool.acquire')!;
    assert.deepEqual(db.references, [{ refType: 'CHILD_OF', traceID: T1, spanID: '1000000000000001' }]);
    assert.equal(t!.processes[root.processID]!.serviceName, 'shop');
    const charge = t!.spans.find((s) => s.operationName === 'charge')!;
    assert.equal(t!.processes[charge.processID]!.serviceName, 'payment');
    assert.equal(Object.keys(t!.processes).length, 2);
    assert.equal((await get('/api/traces/not-hex')).status, 400);
    const missing = await get('/api/traces/44444444444444444444444444444444');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body['errors'], [{ code: 404, msg: 'trace not found' }]);
  });

  test('search as Grafana’s Jaeger data source sends it', async () => {
    const range = { start: us(base - 60), end: us(base + 600), limit: '20' };
    assert.deepEqual(await find({ service: 'shop', ...range }), [T2, T1]);
    assert.deepEqual(await find({ service: 'shop', operation: 'db.pool.acquire', ...range }), [T1]);
    assert.deepEqual(await find({ service: 'shop', tags: '{"error":"true"}', ...range }), [T1]);
    assert.deepEqual(await find({ service: 'shop', tags: '{"http.status_code":"200"}', ...range }), [T2]);
    assert.deepEqual(await find([...Object.entries(range), ['service', 'shop'], ['tag', 'db.system:postgres']]), [T2, T1]);
    // minDuration is on a span of the service: shop spans last 1000, 800, 50, 20 ms.
    assert.deepEqual(await find({ service: 'shop', minDuration: '500ms', ...range }), [T1]);
    assert.deepEqual(await find({ service: 'shop', maxDuration: '30ms', ...range }), [T2]);
    assert.deepEqual(await find({ service: 'payment', ...range }), [T3, T1]);
    assert.deepEqual(await find({ service: 'payment', start: us(base + 100), end: us(base + 200) }), [T3]);
    assert.deepEqual(await find({ service: 'shop', ...range, limit: '1' }), [T2]);
    assert.equal(criteriaToTraceQL({ service: 's', tags: [['span.kind', 'client']] }), '{ resource.service.name = "s" && kind = client }');
  });

  test('bad search input is a 400 in Jaeger’s error envelope', async () => {
    for (const params of [
      { start: '1' },
      { service: 'shop', minDuration: 'soon' },
      { service: 'shop', tags: '{not json' },
      { service: 'shop', tags: '{"a":1}' },
      { service: 'shop', start: 'x' },
      { service: 'shop', start: '200', end: '100' },
      { service: 'shop', limit: '0' },
    ]) {
      const r = await get('/api/traces', params);
      assert.equal(r.status, 400, JSON.stringify(params));
      const errors = r.body['errors'] as { code: number; msg: string }[];
      assert.equal(errors[0]!.code, 400);
      assert.ok(errors[0]!.msg.length > 0);
    }
  });

  test('dependencies: parent → child service edges', async () => {
    const r = await get('/api/dependencies', { endTs: String((base + 600) * 1000), lookback: String(3_600_000) });
    assert.deepEqual(r.body['data'], [{ parent: 'shop', child: 'payment', callCount: 1 }]);
    const none = await get('/api/dependencies', { endTs: String((base - 3600) * 1000), lookback: '1000' });
    assert.deepEqual(none.body['data'], []);
    assert.equal((await get('/api/dependencies', { endTs: 'x' })).status, 400);
  });

  test('api_v3: services, operations, traces and trace by id in OTLP/JSON', async () => {
    assert.deepEqual((await get('/api/v3/services')).body, { services: ['payment', 'shop'] });
    assert.deepEqual((await get('/api/v3/operations', { service: 'payment' })).body, {
      operations: [
        { name: 'POST /charge', spanKind: 'server' },
        { name: 'charge', spanKind: 'server' },
      ],
    });
    const iso = (sec: number): string => new Date(sec * 1000).toISOString();
    const found = await get('/api/v3/traces', {
      'query.service_name': 'shop',
      'query.start_time_min': iso(base - 60),
      'query.start_time_max': iso(base + 600),
      'query.duration_min': '500ms',
    });
    assert.equal(found.status, 200);
    type Rs = { scopeSpans: { spans: { traceId: string }[] }[] };
    const traceIds = (b: Record<string, unknown>): string[] => [
      ...new Set(((b['result'] as { resourceSpans: Rs[] }).resourceSpans ?? []).flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.traceId)))),
    ];
    assert.deepEqual(traceIds(found.body), [T1]);
    const byId = await get(`/api/v3/traces/${T3}`);
    assert.deepEqual(traceIds(byId.body), [T3]);
    const missing = await get('/api/v3/traces/55555555555555555555555555555555');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { error: { httpCode: 404, message: 'trace not found' } });
    assert.equal((await get('/api/v3/traces', { 'query.service_name': 'shop' })).status, 400);
    assert.equal(
      (await get('/api/v3/traces', { 'query.service_name': 'shop', 'query.start_time_min': 'yesterday', 'query.start_time_max': iso(base) })).status,
      400,
    );
  });

  test('Tempo keeps /api/traces/<id>: both data sources read the same trace', async () => {
    const tempo = await fetch(`${srv.url}/api/traces/${T1}`);
    const body = (await tempo.json()) as { batches?: unknown[] };
    assert.ok(Array.isArray(body.batches));
  });
});
