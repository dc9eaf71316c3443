import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { tempDir } from '../../testkit/helpers.js';
import { nopLogger } from '../../core/util/log.js';
import { Router } from './http.js';
import { registerUiRoutes } from './ui.js';

let base: string;
let server: http.Server;
let dir: { dir: string; cleanup: () => void };

before(async () => {
  dir = tempDir('vigil-ui-');
  const dist = path.join(dir.dir, 'dist');
  const dashboards = path.join(dir.dir, 'dashboards');
  fs.mkdirSync(path.join(dist, 'assets'), { recursive: true });
  fs.mkdirSync(path.join(dist, 'test'), { recursive: true });
  fs.mkdirSync(dashboards);
  fs.writeFileSync(path.join(dist, 'index.html'), '<!doctype html><div id="app"></div>');
  fs.writeFileSync(path.join(dist, 'assets', 'main-ABCDEFGH.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dist, 'assets', 'main-ABCDEFGH.js.gz'), zlib.gzipSync('console.log(1)'));
  fs.writeFileSync(path.join(dist, 'assets', 'main-ABCDEFGH.css'), 'body{}');
  fs.writeFileSync(path.join(dist, 'test', 'x.test.js'), 'secret');
  fs.writeFileSync(path.join(dashboards, 'shop.json'), '{"title":"Shop","panels":[]}');
  fs.writeFileSync(path.join(dashboards, 'broken.json'), '{');
  const router = new Router(nopLogger);
  router.on('GET', '/api/v1/query', () => ({ kind: 'json', data: 'api' }));
  registerUiRoutes(router, { distDir: dist, dashboardsDir: dashboards });
  server = http.createServer(router.listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((r) => server.close(r));
  dir.cleanup();
});

test('UI routes get index.html, revalidated on every load', async () => {
  for (const p of ['/ui/', '/ui', '/ui/explore', '/ui/dashboards/shop']) {
    const res = await fetch(base + p);
    assert.equal(res.status, 200, p);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(await res.text(), /id="app"/);
  }
});

test('/ redirects to /ui/', async () => {
  const res = await fetch(base + '/', { redirect: 'manual' });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), '/ui/');
});

test("Prometheus' /graph generator URLs open the query in Explore", async () => {
  const cases: Array<[string, string]> = [
    ['/graph?g0.expr=rate%28http_requests_total%5B5m%5D%29+%3E+0.5&g0.tab=1', '/ui/explore?expr=rate%28http_requests_total%5B5m%5D%29+%3E+0.5&view=table'],
    ['/graph?g0.expr=up&g0.tab=0&g0.range_input=6h', '/ui/explore?expr=up&range=6h'],
    ['/graph?g0.expr=up&g0.range_input=javascript:alert(1)', '/ui/explore?expr=up'],
    ['/graph', '/ui/explore'],
  ];
  for (const [from, to] of cases) {
    const res = await fetch(base + from, { redirect: 'manual' });
    assert.equal(res.status, 302, from);
    assert.equal(res.headers.get('location'), to, from);
  }
});

test('hashed assets: content type, immutable caching, gzip twin when accepted', async () => {
  const js = await fetch(base + '/ui/assets/main-ABCDEFGH.js', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal(js.headers.get('content-encoding'), 'gzip');
  assert.equal(await js.text(), 'console.log(1)');
  const raw = await new Promise<{ status: number; enc: string | undefined; type: string | undefined }>((resolve) =>
    http.get(base + '/ui/assets/main-ABCDEFGH.css', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, enc: res.headers['content-encoding'], type: res.headers['content-type'] });
    }),
  );
  assert.deepEqual(raw, { status: 200, enc: undefined, type: 'text/css; charset=utf-8' });
});

test('missing assets, traversal and test files are 404, not index.html', async () => {
  for (const p of ['/ui/assets/nope-ABCDEFGH.js', '/ui/test/x.test.js', '/ui/..%2F..%2Fetc%2Fpasswd.txt', '/ui/%2E%2E/dashboards/shop.json']) {
    const res = await fetch(base + p);
    assert.equal(res.status, 404, p);
    assert.doesNotMatch(await res.text(), /secret|id="app"/, p);
  }
});

test('APIs are not shadowed', async () => {
  const res = await fetch(base + '/api/v1/query');
  assert.deepEqual(await res.json(), { status: 'success', data: 'api' });
  assert.equal((await fetch(base + '/api/v1/nope')).status, 404);
  assert.equal((await fetch(base + '/metrics')).status, 404);
});

test('dashboards are listed with their JSON, broken files with their error', async () => {
  const body = (await (await fetch(base + '/api/v1/ui/dashboards')).json()) as { data: Array<{ id: string; dashboard?: unknown; error?: string }> };
  assert.equal(body.data.length, 2);
  assert.equal(body.data[0]!.id, 'broken');
  assert.ok(body.data[0]!.error);
  assert.deepEqual(body.data[1], { id: 'shop', file: 'shop.json', dashboard: { title: 'Shop', panels: [] } });
});

test('an unbuilt UI says how to build it', async () => {
  const router = new Router(nopLogger);
  registerUiRoutes(router, { distDir: path.join(dir.dir, 'none') });
  const srv = http.createServer(router.listener);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const res = await fetch(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/ui/`);
  assert.equal(res.status, 503);
  assert.match(await res.text(), /npm run build -w @vigil\/ui/);
  await new Promise((r) => srv.close(r));
});
