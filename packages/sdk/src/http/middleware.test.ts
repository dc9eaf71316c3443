import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { createVigil } from '../vigil.js';
import { captureLogs, listen, seriesLines, seriesValue } from '../testing.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const HEX16 = /^[0-9a-f]{16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('node:http: golden signals by route template, request context in every line, secrets redacted', async () => {
  const logs = captureLogs();
  const vigil = createVigil({ service: 'shop', defaultMetrics: false, logDestination: logs });
  const handler = vigil.httpMiddleware(
    (req, res) => {
      if (req.url?.startsWith('/products/')) {
        vigil.setUser('u-7');
        setTimeout(() => {
          vigil.logger.info({ password: 'hunter2', card: { number: '4111111111111111' } }, 'viewed product');
          res.end('{"id":42}');
        }, 5);
      } else if (req.url === '/cart' && req.method === 'POST') {
        void (async () => {
          // Context follows await (including for-await over the body), not raw emitter callbacks.
          for await (const chunk of req) void chunk;
          vigil.logger.child({ component: 'cart' }).warn('cart updated with card 4111-1111-1111-1111');
          res.writeHead(201).end('created');
        })();
      } else {
        res.writeHead(404).end('not found');
      }
    },
    { routes: ['/products/:id', '/cart'] },
  );
  const srv = await listen(createServer(handler));
  try {
    const r1 = await fetch(`${srv.url}/products/42?ref=home`, { headers: { 'x-request-id': 'abc-123', traceparent: TRACEPARENT } });
    assert.equal(r1.headers.get('x-request-id'), 'abc-123');
    assert.equal(await r1.text(), '{"id":42}');
    const r2 = await fetch(`${srv.url}/cart`, { method: 'POST', body: 'sku=1&count=2' });
    assert.equal(r2.status, 201);
    await r2.text();
    const generated = r2.headers.get('x-request-id') ?? '';
    assert.match(generated, UUID);
    const r3 = await fetch(`${srv.url}/no/such/path/123`);
    assert.equal(r3.status, 404);
    await r3.text();
    await sleep(20);

    const text = (await vigil.metrics()).body;
    assert.deepEqual(seriesLines(text, 'http_server_request_duration_seconds_count'), [
      'http_server_request_duration_seconds_count{service="shop",method="GET",route="/products/:id",status_code="200"} 1',
      'http_server_request_duration_seconds_count{service="shop",method="POST",route="/cart",status_code="201"} 1',
      'http_server_request_duration_seconds_count{service="shop",method="GET",route="unmatched",status_code="404"} 1',
    ]);
    // OpenTelemetry's buckets, in seconds.
    const buckets = seriesLines(text, 'http_server_request_duration_seconds_bucket')
      .filter((l) => l.includes('/products/:id'))
      .map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    assert.deepEqual(buckets, ['0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '+Inf']);
    assert.equal(seriesValue(text, 'http_server_request_body_size_bytes_sum{service="shop",method="POST",route="/cart"}'), 13);
    assert.equal(seriesValue(text, 'http_server_response_body_size_bytes_sum{service="shop",method="GET",route="/products/:id",status_code="200"}'), 9);
    assert.equal(seriesValue(text, 'http_server_response_body_size_bytes_sum{service="shop",method="POST",route="/cart",status_code="201"}'), 7);
    assert.deepEqual(seriesLines(text, 'http_server_active_requests'), ['http_server_active_requests{service="shop"} 0']);
    assert.ok(!text.includes('/products/42'), 'raw paths never become labels');

    const viewed = logs.withMsg('viewed product');
    assert.equal(viewed.length, 1);
    const v = viewed[0] as Record<string, unknown>;
    assert.equal(v['request_id'], 'abc-123');
    assert.equal(v['user_id'], 'u-7');
    assert.equal(v['trace_id'], '0af7651916cd43dd8448eb211c80319c');
    assert.match(String(v['span_id']), HEX16);
    assert.notEqual(v['span_id'], 'b7ad6b7169203331');
    assert.equal(v['service'], 'shop');
    assert.equal(v['password'], '[REDACTED]');
    assert.equal(v['card'], '[REDACTED]');
    assert.equal(v['level'], 'info');

    const cart = logs.withMsg('cart updated with card [REDACTED]');
    assert.equal(cart.length, 1, JSON.stringify(logs.lines));
    assert.equal(cart[0]?.['request_id'], generated);
    assert.equal(cart[0]?.['component'], 'cart');
    assert.equal(cart[0]?.['user_id'], undefined);
    assert.match(String(cart[0]?.['trace_id']), /^[0-9a-f]{32}$/);

    const access = logs.withMsg('request completed');
    assert.deepEqual(
      access.map((l) => [l['request_id'], l['method'], l['route'], l['status_code']]),
      [
        ['abc-123', 'GET', '/products/:id', 200],
        [generated, 'POST', '/cart', 201],
        [access[2]?.['request_id'], 'GET', 'unmatched', 404],
      ],
    );
    assert.ok(!JSON.stringify(logs.lines).includes('hunter2'));
    assert.ok(!JSON.stringify(logs.lines).includes('4111'));
  } finally {
    await srv.close();
    await vigil.shutdown();
  }
});

test('Express: route templates from the router (mounted routers included), context across await', async () => {
  const logs = captureLogs();
  const vigil = createVigil({ service: 'api', environment: 'test', defaultMetrics: false, logDestination: logs });
  const app = express();
  app.use(vigil.expressMiddleware({ userId: (req) => (typeof req.headers['x-user'] === 'string' ? req.headers['x-user'] : undefined) }));
  app.get('/users/:id', async (_req, res) => {
    await sleep(2);
    vigil.logger.info('loaded user');
    res.json({ ok: true });
  });
  const orders = express.Router();
  orders.get('/:orderId', (_req, res) => {
    res.status(500).send('boom');
  });
  app.use('/api/orders', orders);
  const srv = await listen(createServer(app));
  try {
    const r1 = await fetch(`${srv.url}/users/9`, { headers: { 'x-user': 'alice', traceparent: TRACEPARENT } });
    assert.equal(r1.status, 200);
    await r1.text();
    const r2 = await fetch(`${srv.url}/api/orders/77`);
    assert.equal(r2.status, 500);
    await r2.text();
    const r3 = await fetch(`${srv.url}/missing/1`);
    assert.equal(r3.status, 404);
    await r3.text();
    await sleep(20);
    const text = (await vigil.metrics()).body;
    assert.deepEqual(seriesLines(text, 'http_server_request_duration_seconds_count'), [
      'http_server_request_duration_seconds_count{service="api",environment="test",method="GET",route="/users/:id",status_code="200"} 1',
      'http_server_request_duration_seconds_count{service="api",environment="test",method="GET",route="/api/orders/:orderId",status_code="500"} 1',
      'http_server_request_duration_seconds_count{service="api",environment="test",method="GET",route="unmatched",status_code="404"} 1',
    ]);
    const line = logs.withMsg('loaded user')[0] ?? {};
    assert.equal(line['user_id'], 'alice');
    assert.equal(line['trace_id'], '0af7651916cd43dd8448eb211c80319c');
    assert.equal(line['environment'], 'test');
    assert.equal(line['request_id'], r1.headers.get('x-request-id'));
    const failed = logs.withMsg('request failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.['level'], 'error');
    assert.equal(failed[0]?.['route'], '/api/orders/:orderId');
  } finally {
    await srv.close();
    await vigil.shutdown();
  }
});

test('Fastify: route templates from routeOptions, context survives body parsing', async () => {
  const logs = captureLogs();
  const vigil = createVigil({ service: 'fy', defaultMetrics: false, logDestination: logs });
  const app = Fastify();
  await app.register(vigil.fastifyPlugin());
  app.get('/items/:id', async () => {
    vigil.logger.info('get item');
    return { ok: true };
  });
  app.post('/items', async (req) => {
    await sleep(1);
    vigil.logger.info({ body: req.body }, 'created item');
    return { created: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  try {
    const r1 = await fetch(`${url}/items/5`, { headers: { 'x-request-id': 'fy-1' } });
    assert.equal(r1.headers.get('x-request-id'), 'fy-1');
    await r1.text();
    const r2 = await fetch(`${url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'fy-2' },
      body: JSON.stringify({ name: 'x', token: 'sekrit' }),
    });
    assert.equal(r2.status, 200);
    await r2.text();
    const r3 = await fetch(`${url}/nowhere`);
    assert.equal(r3.status, 404);
    await r3.text();
    await sleep(20);
    const text = (await vigil.metrics()).body;
    assert.deepEqual(seriesLines(text, 'http_server_request_duration_seconds_count'), [
      'http_server_request_duration_seconds_count{service="fy",method="GET",route="/items/:id",status_code="200"} 1',
      'http_server_request_duration_seconds_count{service="fy",method="POST",route="/items",status_code="200"} 1',
      'http_server_request_duration_seconds_count{service="fy",method="GET",route="unmatched",status_code="404"} 1',
    ]);
    assert.equal(logs.withMsg('get item')[0]?.['request_id'], 'fy-1');
    const created = logs.withMsg('created item')[0] ?? {};
    assert.equal(created['request_id'], 'fy-2');
    assert.deepEqual(created['body'], { name: 'x', token: '[REDACTED]' });
  } finally {
    await app.close();
    await vigil.shutdown();
  }
});

test('the label-set cap keeps a buggy raw-path route from blowing up cardinality, and counts what it dropped', async () => {
  const vigil = createVigil({ service: 'cap', defaultMetrics: false, maxLabelSets: 3, logDestination: captureLogs() });
  const srv = await listen(
    createServer(
      vigil.httpMiddleware((req, res) => {
        const ctx = vigil.context();
        if (ctx) ctx.route = req.url; // the bug: a raw path as the route
        res.end('x');
      }),
    ),
  );
  try {
    for (let i = 0; i < 10; i++) await (await fetch(`${srv.url}/u/${i}`)).text();
    await sleep(20);
    const text = (await vigil.metrics()).body;
    assert.equal(seriesLines(text, 'http_server_request_duration_seconds_count').length, 3);
    assert.equal(seriesLines(text, 'http_server_request_body_size_bytes_count').length, 3);
    assert.deepEqual(seriesLines(text, 'vigil_metric_label_sets_dropped_total'), [
      'vigil_metric_label_sets_dropped_total{metric="http_server_request_duration_seconds",service="cap"} 7',
      'vigil_metric_label_sets_dropped_total{metric="http_server_request_body_size_bytes",service="cap"} 7',
    ]);
  } finally {
    await srv.close();
    await vigil.shutdown();
  }
});

test('metrics handler: Prometheus text by default, OpenMetrics when asked, on its own port too', async () => {
  const vigil = createVigil({ service: 'm', logDestination: captureLogs() });
  vigil.business.event('purchase', { value: 10, labels: { method: 'card' } });
  const own = await vigil.serveMetrics();
  try {
    const prom = await fetch(own.url);
    assert.equal(prom.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const ptext = await prom.text();
    assert.ok(ptext.includes('business_purchase_total{method="card",service="m"} 1'), ptext);
    for (const m of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_gc_duration_seconds',
      'nodejs_active_handles_total',
    ]) {
      assert.ok(ptext.includes(`# TYPE ${m} `), `default metric ${m}`);
    }
    const om = await fetch(own.url, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    assert.equal(om.headers.get('content-type'), 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    const otext = await om.text();
    assert.ok(otext.endsWith('# EOF\n'));
    assert.ok(otext.includes('# TYPE business_purchase counter\n'));
    assert.ok(otext.includes('business_purchase_total{method="card",service="m"} 1\n'));
    // The text format still has the counter's full name after an OpenMetrics scrape.
    assert.ok((await (await fetch(own.url)).text()).includes('# TYPE business_purchase_total counter'));
    assert.equal((await fetch(own.url.replace('/metrics', '/other'))).status, 404);
  } finally {
    await vigil.shutdown();
    await vigil.shutdown();
  }
});
