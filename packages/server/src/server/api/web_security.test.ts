// What a web page on another origin, a DNS-rebinding page and a careless client can and cannot do
// to a whole Vigil server: Host and Origin checks, body types, body size caps, malformed
// parameters and the security headers, all through real HTTP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { startServer } from '../../testkit/helpers.js';

let srv: Awaited<ReturnType<typeof startServer>>;
let port: number;

before(async () => {
  srv = await startServer((c) => {
    c.web.allowedHosts = ['vigil.example.com'];
    c.web.corsOrigin = 'https://grafana\\.example\\.com';
    // The same-origin reload and flush below must work: turn both on, as the flags do.
    c.web.enableLifecycle = true;
    c.web.enableAdminApi = true;
  });
  port = Number(new URL(srv.url).port);
});
after(() => srv.stop());

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request, so Host, Origin and Referer are exactly what the test says (fetch sets some itself). */
function request(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const SILENCE = JSON.stringify({
  matchers: [{ name: 'alertname', value: 'X', isRegex: false }],
  startsAt: new Date().toISOString(),
  endsAt: new Date(Date.now() + 3600_000).toISOString(),
  createdBy: 't',
  comment: 'c',
});

test('every answer carries a CSP without inline script, frame-ancestors none, nosniff, X-Frame-Options and Referrer-Policy', async () => {
  for (const path of ['/ui/', '/api/v1/query?query=1', '/no/such/path']) {
    const r = await request('GET', path);
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /frame-ancestors 'none'/, path);
    assert.match(csp, /script-src 'self'(;|$)/, path);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(r.headers['x-frame-options'], 'DENY', path);
    assert.equal(r.headers['referrer-policy'], 'same-origin', path);
  }
  const ui = await request('GET', '/ui/');
  if (ui.status === 200) assert.doesNotMatch(ui.body, /<script(?![^>]*\bsrc=)[^>]*>/, 'the built index.html has an inline script the CSP would block');
});

test('a Host naming another domain (DNS rebinding) is refused with 421; local, IP, single-label and configured names pass', async () => {
  const rebound = await request('GET', '/api/v1/query?query=1', { host: `attacker.example:${port}` });
  assert.equal(rebound.status, 421);
  assert.match(rebound.body, /web\.allowed_hosts/);
  assert.equal((await request('POST', '/-/reload', { host: `attacker.example:${port}` })).status, 421);
  for (const host of [
    `localhost:${port}`,
    `127.0.0.1:${port}`,
    `[::1]:${port}`,
    `vigil:${port}`,
    'vigil.example.com',
    `grafana.svc.cluster.local:${port}`,
    `10.1.2.3:${port}`,
  ]) {
    assert.equal((await request('GET', '/api/v1/query?query=1', { host })).status, 200, host);
  }
});

test('state-changing requests from another origin get 403; without Origin (curl, amtool) or from our own origin they work', async () => {
  const own = `http://127.0.0.1:${port}`;
  for (const origin of ['http://attacker.example', 'null', `http://127.0.0.1:${port + 1}`]) {
    const reload = await request('POST', '/-/reload', { origin, 'content-type': 'application/x-www-form-urlencoded' }, 'x=1');
    assert.equal(reload.status, 403, origin);
    assert.match(reload.body, /cross-origin/);
    assert.equal((await request('POST', '/api/v1/admin/tsdb/flush', { origin })).status, 403, origin);
    assert.equal((await request('POST', '/api/v2/silences', { origin, 'content-type': 'application/json' }, SILENCE)).status, 403, origin);
    assert.equal((await request('DELETE', '/api/v2/silence/abc', { origin })).status, 403, origin);
  }
  // A page that suppresses Origin still leaks its Referer.
  assert.equal((await request('POST', '/-/reload', { referer: 'http://attacker.example/page' })).status, 403);
  // curl -X POST, curl -d '' and the UI itself.
  assert.equal((await request('POST', '/-/reload')).status, 200);
  assert.equal((await request('POST', '/-/reload', { 'content-type': 'application/x-www-form-urlencoded' }, '')).status, 200);
  assert.equal((await request('POST', '/-/reload', { origin: own, referer: `${own}/ui/status` })).status, 200);
  assert.equal((await request('POST', '/api/v2/silences', { 'content-type': 'application/json' }, SILENCE)).status, 200);
  assert.equal((await request('POST', '/api/v2/silences', { origin: own, 'content-type': 'application/json' }, SILENCE)).status, 200);
  // web.cors_origin admits a configured origin, anchored: a suffix does not match.
  assert.equal((await request('POST', '/api/v2/silences', { origin: 'https://grafana.example.com', 'content-type': 'application/json' }, SILENCE)).status, 200);
  assert.equal(
    (await request('POST', '/api/v2/silences', { origin: 'https://grafana.example.com.attacker.example', 'content-type': 'application/json' }, SILENCE)).status,
    403,
  );
  // Reads that take a POST form are not state changes (Grafana posts queries as forms).
  assert.equal(
    (await request('POST', '/api/v1/query', { origin: 'http://attacker.example', 'content-type': 'application/x-www-form-urlencoded' }, 'query=1')).status,
    200,
  );
});

test('a body type the endpoint does not take gets 415; the types real clients send pass', async () => {
  const cases: Array<[string, string]> = [
    ['/api/v2/silences', 'text/plain'],
    ['/api/v2/alerts', 'application/x-www-form-urlencoded'],
    ['/api/v1/alertmanager/acknowledge', 'text/plain'],
    ['/api/v1/alertmanager/resolve', 'multipart/form-data; boundary=x'],
    ['/api/v1/write', 'text/plain'],
    ['/loki/api/v1/push', 'text/plain;charset=UTF-8'],
    ['/v1/logs', 'text/plain'],
    ['/api/v1/logs/jsonl', 'application/x-www-form-urlencoded'],
    ['/api/v1/admin/tsdb/flush', 'text/plain'],
  ];
  for (const [path, type] of cases) {
    const r = await request('POST', path, { 'content-type': type }, '{}');
    assert.equal(r.status, 415, `${path} ${type}`);
    assert.match(r.body, /unsupported Content-Type/);
  }
  assert.equal(
    (
      await request(
        'POST',
        '/loki/api/v1/push',
        { 'content-type': 'application/json' },
        JSON.stringify({ streams: [{ stream: { job: 't' }, values: [[String(Date.now() * 1e6), 'hi']] }] }),
      )
    ).status,
    204,
  );
  assert.equal((await request('POST', '/api/v1/logs/jsonl', { 'content-type': 'text/plain;charset=UTF-8' }, '{"msg":"hi","service":"t"}\n')).status, 204);
  assert.equal(
    (await request('POST', '/api/v2/alerts', { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify([{ labels: { alertname: 'T' } }]))).status,
    200,
  );
});

test('oversized bodies get 413 on every endpoint that reads one, form posts included', async () => {
  const big = Buffer.alloc(17 * 1024 * 1024, 'a');
  assert.equal((await request('POST', '/api/v2/silences', { 'content-type': 'application/json' }, big)).status, 413);
  assert.equal(
    (await request('POST', '/api/v1/alertmanager/acknowledge', { 'content-type': 'application/json' }, Buffer.alloc(2 * 1024 * 1024, 'a'))).status,
    413,
  );
  assert.equal((await request('POST', '/api/v1/query', { 'content-type': 'application/x-www-form-urlencoded' }, big)).status, 413);
  assert.equal((await request('POST', '/api/v1/write', { 'content-type': 'application/x-protobuf' }, Buffer.alloc(33 * 1024 * 1024, 1))).status, 413);
  // The server is still fine afterwards.
  assert.equal((await request('GET', '/-/healthy')).status, 200);
});

test('malformed parameters are 400, not 500', async () => {
  for (const path of [
    '/api/v1/label/%E0%A4%A/values',
    '/api/v1/query?query=1&time=1e400',
    `/api/v1/query?query=1&time=${'9'.repeat(400)}`,
    '/api/v1/query_range?query=1&start=0&end=1e400&step=15',
    `/loki/api/v1/query_range?query=${encodeURIComponent('{job="t"}')}&start=${'9'.repeat(400)}`,
    '/api/v2/silence/%ZZ',
  ]) {
    const r = await request('GET', path);
    assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status} ${r.body}`);
  }
});

test('CORS is off by default and answers preflights only for web.cors_origin', async () => {
  const allowed = await request('OPTIONS', '/api/v1/query', { origin: 'https://grafana.example.com', 'access-control-request-method': 'POST' });
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers['access-control-allow-origin'], 'https://grafana.example.com');
  const writeOnly = await request('OPTIONS', '/api/v2/silence/abc', { origin: 'https://grafana.example.com', 'access-control-request-method': 'DELETE' });
  assert.equal(writeOnly.status, 204);
  assert.match(String(writeOnly.headers['access-control-allow-methods']), /DELETE/);
  const other = await request('GET', '/api/v1/query?query=1', { origin: 'http://attacker.example' });
  assert.equal(other.headers['access-control-allow-origin'], undefined);
  const def = await startServer();
  try {
    const r = await fetch(`${def.url}/api/v1/query?query=1`, { headers: { origin: 'https://grafana.example.com' } });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  } finally {
    await def.stop();
  }
});
