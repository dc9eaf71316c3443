// The shared HTTP client on its own: redirects, TLS versions, proxies from the configuration and
// the environment, NO_PROXY matching, and scrape configs picking up the proxy settings.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BodySizeLimitError, HttpClient, HttpRequestError, noProxyMatcher } from './client.js';
import { DEFAULT_HTTP_CLIENT_CONFIG, type HttpClientConfig } from './config.js';
import { makeCerts, serveHttps, startProxy, type ProxyLog, type TestServer } from '../../testkit/httpclient.js';
import { httpTransport } from '../../metrics/scrape/transport.js';
import { scrapeConfig } from '../../testkit/scrape.js';
import { tempDir } from '../../testkit/helpers.js';

let cleanup: () => void;
let origin: http.Server;
let base = '';
let proxy: TestServer & { log: ProxyLog };
const seen: Array<{ method: string; url: string; body: string }> = [];

before(async () => {
  ({ cleanup } = tempDir('vigil-httpclient-'));
  origin = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString() });
      const m = /^\/redirect\/(\d+)$/.exec(req.url ?? '');
      if (m) return void res.writeHead(Number(m[1]), { location: '/target' }).end();
      if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      if (req.url === '/long-refusal') return void res.writeHead(400, { 'content-type': 'text/plain' }).end('refused: ' + 'x'.repeat(1 << 20));
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`${req.method} ${req.url}`);
    });
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  proxy = await startProxy();
});

after(async () => {
  origin.closeAllConnections();
  origin.close();
  await proxy.close();
  cleanup();
});

const client = (over: Partial<HttpClientConfig> = {}, env?: Record<string, string>): HttpClient =>
  new HttpClient({ ...DEFAULT_HTTP_CLIENT_CONFIG, ...over }, env ? { env } : {});

test('303 turns a POST into a GET without a body; 307 repeats the POST with its body', async () => {
  const c = client();
  seen.length = 0;
  const r303 = await c.request('POST', `${base}/redirect/303`, { body: 'payload', headers: { 'content-type': 'application/json' } });
  assert.equal(r303.body.toString(), 'GET /target');
  const r307 = await c.request('POST', `${base}/redirect/307`, { body: 'payload' });
  assert.equal(r307.body.toString(), 'POST /target');
  assert.deepEqual(
    seen.map((s) => `${s.method} ${s.url} ${s.body}`),
    ['POST /redirect/303 payload', 'GET /target ', 'POST /redirect/307 payload', 'POST /target payload'],
  );
  c.close();
});

test('follow_redirects: false returns the redirect; endless redirects stop after 10', async () => {
  const c = client({ followRedirects: false });
  assert.equal((await c.request('GET', `${base}/redirect/302`)).status, 302);
  await assert.rejects(
    client().request('GET', `${base}/loop`),
    (e: unknown) => e instanceof HttpRequestError && /^Get ".*\/loop": stopped after 10 redirects$/.test(e.message),
  );
  c.close();
});

test('a timeout aborts the request with Go wording', async () => {
  const slow = http.createServer(() => {});
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
  await assert.rejects(client().request('GET', url, { timeoutMs: 50 }), /context deadline exceeded/);
  slow.closeAllConnections();
  slow.close();
});

test('a signal that aborted before the request is refused at once, with nothing thrown later', async () => {
  const uncaught: unknown[] = [];
  const keep = (err: unknown): void => void uncaught.push(err);
  process.on('uncaughtException', keep);
  try {
    const gone = new AbortController();
    gone.abort();
    await assert.rejects(client().request('POST', `${base}/x`, { body: 'b', signal: gone.signal }), /context deadline exceeded/);
    // The destroyed request's `error` (socket hang up) comes a turn or two later.
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(uncaught, []);
  } finally {
    process.off('uncaughtException', keep);
  }
});

test('tls_config min_version is applied', async () => {
  const { dir: d, cleanup: done } = tempDir('vigil-tlsver-');
  makeCerts(d);
  const srv = await serveHttps(d, (_q, s) => s.end('ok'), { maxVersion: 'TLSv1.2' });
  try {
    const ok = client({ tlsConfig: { insecureSkipVerify: true, minVersion: 'TLSv1.2' } });
    assert.equal((await ok.request('GET', srv.url)).body.toString(), 'ok');
    ok.close();
    await assert.rejects(client({ tlsConfig: { insecureSkipVerify: true, minVersion: 'TLSv1.3' } }).request('GET', srv.url), /version|protocol|alert/i);
  } finally {
    await srv.close();
    done();
  }
});

test('proxy_from_environment: HTTP_PROXY carries requests, except NO_PROXY hosts and loopback', async () => {
  proxy.log.forwarded.length = 0;
  const env = { HTTP_PROXY: proxy.url, NO_PROXY: 'skip.test' };
  const c = client({ proxyFromEnvironment: true }, env);
  // The proxy cannot reach `via.test` (502), but it was asked to.
  assert.equal((await c.request('GET', 'http://via.test:1/x', { timeoutMs: 5000 })).status, 502);
  assert.equal((await c.request('GET', `${base}/direct`)).status, 200);
  await assert.rejects(c.request('GET', 'http://skip.test:1/x', { timeoutMs: 5000 }));
  assert.deepEqual(proxy.log.forwarded, ['GET http://via.test:1/x']);
  c.close();
});

test('NO_PROXY matching follows Go: domains with subdomains, leading dot, ports, IPs, CIDRs, *', () => {
  const m = noProxyMatcher('example.com, .sub.org, host.net:8080, 10.0.0.0/8, 192.168.1.1, [::5]', false);
  const hit = (u: string): boolean => m(new URL(u));
  assert.equal(hit('http://example.com/'), true);
  assert.equal(hit('http://a.example.com/'), true);
  assert.equal(hit('http://notexample.com/'), false);
  assert.equal(hit('http://sub.org/'), false);
  assert.equal(hit('http://x.sub.org/'), true);
  assert.equal(hit('http://host.net:8080/'), true);
  assert.equal(hit('http://host.net/'), false);
  assert.equal(hit('http://10.1.2.3/'), true);
  assert.equal(hit('http://11.1.2.3/'), false);
  assert.equal(hit('http://192.168.1.1/'), true);
  assert.equal(hit('http://[::5]/'), true);
  assert.equal(hit('http://127.0.0.1/'), false);
  assert.equal(noProxyMatcher('', true)(new URL('http://localhost:9/')), true);
  assert.equal(noProxyMatcher('*', false)(new URL('http://anything.example/')), true);
});

test('scrape configs take proxy_url and scrape through the proxy', async () => {
  proxy.log.forwarded.length = 0;
  const cfg = scrapeConfig({ proxy_url: proxy.url, static_configs: [{ targets: ['x:1'] }] });
  assert.equal(cfg.proxyUrl, proxy.url);
  const t = httpTransport(cfg);
  const res = await t.fetch({ url: `${base}/metrics`, headers: {}, bodySizeLimit: 0, signal: AbortSignal.timeout(5000) });
  t.close();
  assert.equal(res.body.toString(), 'GET /metrics');
  assert.deepEqual(proxy.log.forwarded, [`GET ${base}/metrics`]);
});

test('a long answer: bodySizeLimit fails the request, truncateBodyAt answers with its status and the start of the body', async () => {
  const client = new HttpClient(DEFAULT_HTTP_CLIENT_CONFIG);
  await assert.rejects(client.request('GET', `${base}/long-refusal`, { bodySizeLimit: 1024 }), BodySizeLimitError);
  const res = await client.request('GET', `${base}/long-refusal`, { truncateBodyAt: 1024 });
  assert.equal(res.status, 400);
  assert.equal(res.body.length, 1024);
  assert.ok(res.body.toString().startsWith('refused: xxx'));
  client.close();
});
