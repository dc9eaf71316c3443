// storage.type: remote when the remote misbehaves: down, silent, refusing credentials, or a real
// Prometheus refusing a query; the query gate and client disconnects apply to remote calls too.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { freePort, peerBinary, startServer, tempDir, waitFor } from '../../testkit/helpers.js';
import { remoteStorage, startVictoriaMetrics } from '../../testkit/victoria.js';
import { makeCerts } from '../../testkit/certs.js';
import { defaultConfig } from '../config/config.js';
import { VigilServer } from '../cmd/server.js';
import { createLogger } from '../../core/util/log.js';
import { asPromqlType, parseApiFloat, remoteError, valueFromApi } from '../../metrics/query/remote.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

type Server = Awaited<ReturnType<typeof startServer>>;

async function remoteVigil(url: string, extra = '', patch: Parameters<typeof startServer>[0] = () => {}): Promise<Server> {
  const s = await startServer((c) => {
    c.selfScrape = false;
    remoteStorage(c, url, extra);
    patch(c);
  });
  cleanups.push(() => s.stop());
  return s;
}

async function ask(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { errorType?: string; error?: string; data?: unknown } };
}

/** A TCP server that accepts connections and never answers: a remote that hangs. Counts closed sockets. */
async function silentRemote(): Promise<{ url: string; open: () => number; closed: () => number }> {
  let open = 0;
  let closed = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    open++;
    sockets.add(s);
    s.on('close', () => {
      closed++;
      sockets.delete(s);
    });
    s.on('error', () => {});
    // Read and drop the request, so the peer's close is seen ('end' needs the data consumed).
    s.resume();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`, open: () => open, closed: () => closed };
}

test('a remote that is down is a 503 that names it, with Retry-After, for queries and series alike', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const v = await remoteVigil(url);
  for (const p of ['/api/v1/query?query=up', '/api/v1/series?match[]=up', '/api/v1/labels', '/api/v1/label/job/values', '/api/v1/metadata']) {
    const r = await ask(`${v.url}${p}`);
    assert.equal(r.status, 503, p);
    assert.equal(r.body.errorType, 'unavailable', p);
    assert.match(r.body.error!, new RegExp(`remote storage ${url.replace(/\./g, '\\.')} is unreachable: .*ECONNREFUSED`), p);
    assert.equal(r.retryAfter, '5', p);
  }
  // Operators see the remote's failures on /metrics, by endpoint and outcome.
  const m = await (await fetch(`${v.url}/metrics`)).text();
  assert.match(m, /vigil_remote_storage_query_duration_seconds_count\{endpoint="\/api\/v1\/query",code="unreachable"\} 1/);
  assert.match(m, /vigil_remote_storage_query_duration_seconds_count\{endpoint="\/api\/v1\/label\/:name\/values",code="unreachable"\} 1/);
});

test('a remote that does not answer in time is a 503 timeout with Retry-After; the connection is dropped', async () => {
  const silent = await silentRemote();
  const v = await remoteVigil(silent.url, '    timeout: 300ms\n');
  const t0 = Date.now();
  const r = await ask(`${v.url}/api/v1/query_range?query=up&start=0&end=60&step=15`);
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(r.status, 503);
  assert.equal(r.body.errorType, 'timeout');
  assert.match(r.body.error!, /did not answer within 0\.3s/);
  assert.match(
    await (await fetch(`${v.url}/metrics`)).text(),
    /vigil_remote_storage_query_duration_seconds_count\{endpoint="\/api\/v1\/query_range",code="timeout"\} 1/,
  );
  assert.equal(r.retryAfter, '5');
  await waitFor('the timed-out connection to close', () => Promise.resolve(silent.closed() >= 1 ? true : undefined), 5000, 50);
});

test('a client that goes away cancels its remote call; the query gate holds remote calls too', async () => {
  const silent = await silentRemote();
  const v = await remoteVigil(silent.url, '    timeout: 30s\n', (c) => {
    c.query.maxConcurrency = 1;
    c.query.queueTimeoutMs = 200;
  });
  const ac = new AbortController();
  const first = fetch(`${v.url}/api/v1/query?query=up`, { signal: ac.signal }).catch(() => undefined);
  await waitFor('the remote call', () => Promise.resolve(silent.open() >= 1 ? true : undefined), 5000, 20);
  // The one slot is taken by the hanging call: the next query waits in the queue, then is refused.
  const queued = await ask(`${v.url}/api/v1/query?query=up`);
  assert.equal(queued.status, 503);
  assert.match(queued.body.error!, /queue/i);
  assert.ok(queued.retryAfter);
  ac.abort();
  await first;
  // Vigil drops its connection to the remote when its client is gone, long before the 30 s timeout.
  await waitFor('the remote connection to close after the client left', () => Promise.resolve(silent.closed() >= 1 ? true : undefined), 5000, 50);
  const canceled = await waitFor(
    'the canceled query to be counted',
    async () => {
      const m = await (await fetch(`${v.url}/metrics`)).text();
      return /vigil_engine_queries_ended_total\{reason="canceled"\} 1/.test(m) ? true : undefined;
    },
    5000,
    100,
  );
  assert.equal(canceled, true);
});

test('basic_auth reaches a VictoriaMetrics that asks for it; a wrong password is an error naming the remote', async () => {
  const vm = await startVictoriaMetrics(['-httpAuth.username=vigil', '-httpAuth.password=s3cret']);
  cleanups.push(() => vm.stop());
  const { dir, cleanup } = tempDir('vigil-secret-');
  cleanups.push(cleanup);
  fs.writeFileSync(path.join(dir, 'pw'), 's3cret\n');
  const good = await remoteVigil(vm.url, `    basic_auth: { username: vigil, password_file: ${path.join(dir, 'pw')} }\n`);
  const ok = await ask(`${good.url}/api/v1/query?query=vector(1)`);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual((ok.body.data as { result: unknown[] }).result.length, 1);
  const bad = await remoteVigil(vm.url, `    basic_auth: { username: vigil, password: wrong }\n`);
  const r = await ask(`${bad.url}/api/v1/labels`);
  assert.equal(r.status, 500);
  assert.match(r.body.error!, new RegExp(`remote storage ${vm.url.replace(/\./g, '\\.')} answered 401`));
  assert.doesNotMatch(r.body.error!, /wrong/);
});

test('tls_config: a VictoriaMetrics serving HTTPS is reached with its CA; without it the certificate is refused', async () => {
  const { dir, cleanup } = tempDir('vigil-remote-tls-');
  cleanups.push(cleanup);
  const certs = makeCerts(dir);
  const vm = await startVictoriaMetrics([], { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.caCert });
  cleanups.push(() => vm.stop());
  const good = await remoteVigil(vm.url, `    tls_config: { ca_file: ${certs.caCert} }\n`);
  const ok = await ask(`${good.url}/api/v1/query?query=vector(3)`);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const noCa = await remoteVigil(vm.url);
  const r = await ask(`${noCa.url}/api/v1/query?query=vector(3)`);
  assert.equal(r.status, 503);
  assert.match(r.body.error!, /is unreachable: .*(self[- ]signed|unable to verify|certificate)/i);
});

test('a 400 from a real Prometheus as the remote stays a 400 bad_data with its message', { timeout: 60_000 }, async () => {
  const bin = peerBinary('prometheus', 'prometheus');
  const { dir, cleanup } = tempDir('vigil-prom-remote-');
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1m\n');
  const child = spawn(
    bin,
    [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    {
      stdio: 'ignore',
    },
  );
  cleanups.push(async () => {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    cleanup();
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Prometheus to be ready', async () => ((await fetch(`${url}/-/ready`)).status === 200 ? true : undefined), 30_000, 200);
  const v = await remoteVigil(url);
  // limit_ratio is PromQL that Vigil parses and this Prometheus (2.42) does not know.
  const r = await ask(`${v.url}/api/v1/query?query=${encodeURIComponent('limit_ratio(0.5, up)')}`);
  assert.equal(r.status, 400);
  assert.equal(r.body.errorType, 'bad_data');
  assert.match(r.body.error!, /limit_ratio/);
  // And a good query answers through it.
  const ok = await ask(`${v.url}/api/v1/query?query=${encodeURIComponent('vector(2) * 3')}`);
  assert.equal(ok.status, 200);
  assert.equal((ok.body.data as { result: unknown[] }).result.length, 1);
});

test('at start, a remote-mode Vigil says where queries go and that recording rules stay local', async () => {
  const lines: string[] = [];
  const { dir, cleanup } = tempDir('vigil-remote-log-');
  cleanups.push(cleanup);
  fs.writeFileSync(path.join(dir, 'rules.yml'), 'groups:\n  - name: r\n    rules:\n      - record: job:up:sum\n        expr: sum(up)\n');
  const config = defaultConfig();
  config.storage.path = path.join(dir, 'data');
  config.listen = '127.0.0.1:0';
  config.selfScrape = false;
  config.baseDir = dir;
  config.ruleFiles = ['rules.yml'];
  remoteStorage(config, 'http://127.0.0.1:9');
  const server = new VigilServer(config, { logger: createLogger({ write: (l) => lines.push(l) }) });
  await server.start();
  cleanups.push(() => server.stop());
  const logged = lines.map((l) => JSON.parse(l) as { level: string; msg: string; url?: string });
  assert.ok(logged.some((l) => l.level === 'info' && /answered by remote storage/.test(l.msg) && l.url === 'http://127.0.0.1:9'));
  assert.ok(logged.some((l) => l.level === 'warn' && /^1 recording rules .* forward them to the remote with remote_write/.test(l.msg)));
});

test('remote answers are read into Vigil values; statuses map to error types', () => {
  assert.equal(parseApiFloat('+Inf'), Infinity);
  assert.equal(parseApiFloat('-Inf'), -Infinity);
  assert.ok(Number.isNaN(parseApiFloat('NaN')));
  assert.equal(parseApiFloat('1e-3'), 0.001);
  assert.throws(() => parseApiFloat('abc'), /not a number/);
  const m = valueFromApi({
    resultType: 'matrix',
    result: [
      { metric: { a: '2' }, values: [[1.001, '1']] },
      { metric: { a: '1' }, values: [[1.5, '+Inf']] },
    ],
  });
  assert.equal(m.type, 'matrix');
  if (m.type === 'matrix') {
    assert.deepEqual(
      m.series.map((s) => s.metric[0]!.value),
      ['1', '2'],
    );
    assert.deepEqual(m.series[1]!.points, [{ t: 1001, v: 1 }]);
  }
  // MetricsQL's one-sample vector for a scalar expression is read back as PromQL's scalar; NaN when empty.
  assert.deepEqual(asPromqlType({ type: 'vector', samples: [{ metric: [], t: 5000, v: 2 }] }, 'scalar', 5000), { type: 'scalar', t: 5000, v: 2 });
  const nan = asPromqlType({ type: 'vector', samples: [] }, 'scalar', 7000);
  assert.ok(nan.type === 'scalar' && nan.t === 7000 && Number.isNaN(nan.v));
  const vec = { type: 'vector' as const, samples: [] };
  assert.equal(asPromqlType(vec, 'vector', 7000), vec);
  const res = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    statusText: '',
    headers,
    body: Buffer.from(JSON.stringify(body)),
  });
  const e429 = remoteError('http://vm', res(429, { status: 'error', error: 'too many requests' }, { 'retry-after': '12' }));
  assert.deepEqual([e429.code, e429.retryAfterSec], ['unavailable', 12]);
  assert.match(e429.message, /remote storage http:\/\/vm answered 429: too many requests/);
  const e504 = remoteError('http://vm', res(504, 'gateway'));
  assert.deepEqual([e504.code, e504.retryAfterSec], ['timeout', 5]);
  const e503 = remoteError('http://vm', res(503, { status: 'error', errorType: 'timeout', error: 'query timed out' }));
  assert.equal(e503.code, 'timeout');
  assert.equal(remoteError('http://vm', res(400, { status: 'error', errorType: 'bad_data', error: 'parse error' })).message, 'parse error');
  assert.equal(remoteError('http://vm', res(422, { status: 'error', errorType: 'execution', error: 'x' })).code, 'execution');
});
