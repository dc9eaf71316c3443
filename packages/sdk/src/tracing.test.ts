// Tracing end to end through the real OpenTelemetry exporter (OTLP/HTTP protobuf) into the test-side
// receiver: server spans, track() and pool spans, one trace id in spans and log lines, traceparent
// across two services, sampling, and an endpoint that answers 404.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, request, type RequestListener } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { createVigil, type Vigil, type VigilOptions } from './vigil.js';
import { captureLogs, listen, seriesValue, type LogCapture } from './testing.js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { tracesEndpoint } from './tracing.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './testkit/otlp-receiver.js';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A GET through node:http (the module the instrumentation patches), as an ES module named import. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Svc {
  vigil: Vigil;
  logs: LogCapture;
  url: string;
  close(): Promise<void>;
}

async function service(
  rx: OtlpReceiver,
  name: string,
  handler: (v: Vigil) => RequestListener,
  extra: Partial<VigilOptions> = {},
  routes: string[] = [],
): Promise<Svc> {
  const logs = captureLogs();
  const vigil = createVigil({
    service: name,
    version: '1.2.3',
    environment: 'test',
    defaultMetrics: false,
    logDestination: logs,
    traces: { endpoint: rx.url, exportIntervalMs: 50 },
    ...extra,
  });
  const srv = await listen(createServer(vigil.httpMiddleware(handler(vigil), { routes })));
  return {
    vigil,
    logs,
    url: srv.url,
    async close() {
      await srv.close();
      await vigil.shutdown();
    },
  };
}

const byName = (spans: ReceivedSpan[], name: string): ReceivedSpan => {
  const s = spans.find((x) => x.name === name);
  assert.ok(s, `a span named ${name} among ${spans.map((x) => x.name).join(', ')}`);
  return s;
};

test('a request is a server span with its route; traceparent is honoured; log lines carry its ids', async () => {
  const rx = await startOtlpReceiver();
  const svc = await service(
    rx,
    'orders',
    (v) => (req, res) => {
      v.logger.info({ order: 42 }, 'order viewed');
      res.writeHead(req.url === '/orders/boom' ? 503 : 200).end('ok');
    },
    {},
    ['/orders/:id'],
  );
  try {
    const parent = '0af7651916cd43dd8448eb211c80319c';
    const r = await get(`${svc.url}/orders/42?x=1`, { traceparent: `00-${parent}-b7ad6b7169203331-01`, 'x-request-id': 'req-1' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-request-id'], 'req-1');
    await get(`${svc.url}/orders/boom`);
    const spans = await rx.waitFor((s) => s.length >= 2, 'two server spans');
    const ok = spans.find((s) => s.traceId === parent)!;
    assert.equal(ok.name, 'GET /orders/:id');
    assert.equal(ok.kind, SERVER);
    assert.equal(ok.parentSpanId, 'b7ad6b7169203331');
    assert.equal(ok.attributes['http.route'], '/orders/:id');
    assert.equal(ok.attributes['http.response.status_code'], 200);
    assert.equal(ok.attributes['http.request.id'], 'req-1');
    assert.equal(ok.status.code, 0);
    assert.deepEqual(
      { service: ok.resource['service.name'], version: ok.resource['service.version'], env: ok.resource['deployment.environment'] },
      { service: 'orders', version: '1.2.3', env: 'test' },
    );
    const failed = spans.find((s) => s.traceId !== parent)!;
    assert.equal(failed.status.code, ERROR);
    assert.equal(failed.parentSpanId, '');
    // Every line of a request (the handler's and the access log) names the server span.
    for (const span of [ok, failed]) {
      const lines = svc.logs.lines.filter((l) => l['trace_id'] === span.traceId);
      assert.equal(lines.length, 2, `two lines for ${span.name}`);
      assert.ok(lines.every((l) => l['span_id'] === span.spanId));
    }
    assert.equal(svc.logs.lines.find((l) => l['trace_id'] === parent)?.['request_id'], 'req-1');
    assert.equal(svc.vigil.tracing?.endpoint, rx.url);
    assert.ok(rx.requests.every((q) => q.contentType === 'application/x-protobuf'));
    // Counted when the exporter has the answer, which can be just after the receiver has the spans.
    const sent = async () =>
      seriesValue((await svc.vigil.metrics()).body, 'vigil_trace_spans_exported_total{outcome="success",service="orders",environment="test"}');
    for (let i = 0; i < 100 && (await sent()) !== rx.spans.length; i++) await sleep(20);
    assert.equal(await sent(), rx.spans.length);
  } finally {
    await svc.close();
    await rx.close();
  }
});

test('Express and Fastify: server spans named by their route templates, log lines inside them, body parsing included', async () => {
  const rx = await startOtlpReceiver();
  const logs = captureLogs();
  const opts = { defaultMetrics: false, logDestination: logs, traces: { endpoint: rx.url, exportIntervalMs: 50 } };
  const ex = createVigil({ service: 'ex', ...opts });
  const fy = createVigil({ service: 'fy', ...opts });
  const app = express();
  app.use(ex.expressMiddleware());
  app.get('/users/:id', (_req, res) => {
    ex.logger.info('express handler');
    res.send('user');
  });
  const exSrv = await listen(createServer(app));
  const f = Fastify();
  await f.register(fy.fastifyPlugin());
  f.post('/items/:id', async (req) => {
    await sleep(1);
    fy.logger.info({ body: req.body }, 'fastify handler');
    return { ok: true };
  });
  await f.listen({ port: 0, host: '127.0.0.1' });
  try {
    assert.equal((await get(`${exSrv.url}/users/7`)).body, 'user');
    const res = await fetch(`http://127.0.0.1:${(f.server.address() as { port: number }).port}/items/3`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: '00-33333333333333333333333333333333-3333333333333333-01' },
      body: '{"n":1}',
    });
    assert.equal(res.status, 200);
    await res.text();
    const spans = await rx.waitFor((s) => s.length >= 2, 'both server spans');
    const e = one(spans, 'ex');
    const fs = one(spans, 'fy');
    assert.equal(e.name, 'GET /users/:id');
    assert.equal(fs.name, 'POST /items/:id');
    assert.equal(fs.traceId, '33333333333333333333333333333333');
    assert.equal(fs.parentSpanId, '3333333333333333');
    assert.equal(logs.withMsg('express handler')[0]?.['span_id'], e.spanId);
    const fl = logs.withMsg('fastify handler')[0]!;
    assert.deepEqual([fl['trace_id'], fl['span_id']], [fs.traceId, fs.spanId]);
  } finally {
    await exSrv.close();
    await f.close();
    await ex.shutdown();
    await fy.shutdown();
    await rx.close();
  }
});

const one = (spans: ReceivedSpan[], service: string): ReceivedSpan => {
  const found = spans.filter((s) => s.service === service);
  assert.equal(found.length, 1, `one span of ${service}`);
  return found[0]!;
};

test('track() spans are named after the operation, nest, and carry the error; logs name the innermost span', async () => {
  const rx = await startOtlpReceiver();
  const svc = await service(rx, 'billing', (v) => (_req, res) => {
    void (async () => {
      await v.track('invoice.create', async () => {
        v.logger.info('creating invoice');
        await v.track('invoice.render', () => sleep(20));
      });
      try {
        v.track('invoice.send', () => {
          throw new TypeError('no recipient');
        });
      } catch {
        /* answered below */
      }
      res.end('done');
    })();
  });
  try {
    await get(svc.url);
    const spans = await rx.waitFor((s) => s.length >= 4, 'server and three tracked spans');
    const server = spans.find((s) => s.kind === SERVER)!;
    const create = byName(spans, 'invoice.create');
    const render = byName(spans, 'invoice.render');
    const send = byName(spans, 'invoice.send');
    assert.equal(create.parentSpanId, server.spanId);
    assert.equal(render.parentSpanId, create.spanId);
    assert.equal(send.parentSpanId, server.spanId);
    assert.ok(render.durationMs >= 18, `render took ${render.durationMs} ms`);
    assert.ok(create.durationMs >= render.durationMs);
    assert.equal(create.status.code, 0);
    assert.deepEqual(send.status, { code: ERROR, message: 'no recipient' });
    const ex = send.events.find((e) => e.name === 'exception');
    assert.equal(ex?.attributes['exception.type'], 'TypeError');
    assert.equal(ex?.attributes['exception.message'], 'no recipient');
    const line = svc.logs.withMsg('creating invoice')[0]!;
    assert.equal(line['trace_id'], server.traceId);
    assert.equal(line['span_id'], create.spanId);
    assert.equal(svc.logs.withMsg('request completed')[0]?.['span_id'], server.spanId);
  } finally {
    await svc.close();
    await rx.close();
  }
});

/** A pg-like pool: `max` clients, waiters time out after `timeoutMs`. */
class TinyPg {
  totalCount = 0;
  idleCount = 0;
  private readonly queue: Array<(c: unknown) => void> = [];
  constructor(readonly options: { max: number; timeoutMs: number }) {}
  get waitingCount(): number {
    return this.queue.length;
  }
  private client() {
    return {
      query: async (_sql: string) => {
        await sleep(5);
        return { rows: [] };
      },
      release: () => {
        const next = this.queue.shift();
        if (next) next(this.client());
        else this.idleCount++;
      },
    };
  }
  connect(): Promise<ReturnType<TinyPg['client']>> {
    if (this.idleCount > 0) {
      this.idleCount--;
      return Promise.resolve(this.client());
    }
    if (this.totalCount < this.options.max) {
      this.totalCount++;
      return Promise.resolve(this.client());
    }
    return new Promise((resolve, reject) => {
      const waiter = (c: unknown) => {
        clearTimeout(t);
        resolve(c as ReturnType<TinyPg['client']>);
      };
      const t = setTimeout(() => {
        this.queue.splice(this.queue.indexOf(waiter), 1);
        reject(new Error('timeout exceeded when trying to connect'));
      }, this.options.timeoutMs);
      this.queue.push(waiter);
    });
  }
}

test('pool: acquire and query spans; an acquire timeout is an error span lasting the full wait', async () => {
  const rx = await startOtlpReceiver();
  let pg!: TinyPg;
  const svc = await service(rx, 'ledger', (v) => {
    pg = v.pool.instrumentPg('ledger-db', new TinyPg({ max: 1, timeoutMs: 250 }));
    return (_req, res) => {
      void (async () => {
        try {
          const c = await pg.connect();
          try {
            await c.query('select * from entries where id = $1');
            await sleep(400);
          } finally {
            c.release();
          }
          res.end('ok');
        } catch (err) {
          v.logger.error({ err }, 'database pool exhausted');
          res.writeHead(503).end('busy');
        }
      })();
    };
  });
  try {
    const [a, b] = await Promise.all([get(svc.url), sleep(50).then(() => get(svc.url))]);
    assert.deepEqual([a.status, b.status], [200, 503]);
    const spans = await rx.waitFor((s) => s.filter((x) => x.kind === SERVER).length >= 2, 'both requests');
    const acquires = spans.filter((s) => s.name === 'db.pool.acquire');
    assert.equal(acquires.length, 2);
    const timedOut = acquires.find((s) => s.status.code === ERROR)!;
    assert.ok(timedOut, 'one acquire failed');
    assert.ok(timedOut.durationMs >= 245 && timedOut.durationMs < 400, `the failed acquire lasted ${timedOut.durationMs} ms`);
    assert.ok(Number(timedOut.attributes['db.client.connection.wait_time_ms']) >= 245);
    assert.equal(timedOut.attributes['db.client.connection.timed_out'], true);
    assert.equal(timedOut.attributes['db.client.connection.pool.name'], 'ledger-db');
    assert.match(timedOut.status.message, /timeout exceeded/);
    assert.ok(timedOut.events.some((e) => e.name === 'exception' && /timeout exceeded/.test(String(e.attributes['exception.message']))));
    const fine = acquires.find((s) => s.status.code !== ERROR)!;
    assert.equal(fine.attributes['db.client.connection.timed_out'], false);
    const q = byName(spans, 'SELECT ledger-db');
    assert.equal(q.kind, CLIENT);
    assert.equal(q.attributes['db.query.text'], 'select * from entries where id = $1');
    assert.equal(q.traceId, fine.traceId);
    // The failing request's error line carries the trace of the timed-out acquire.
    const line = svc.logs.withMsg('database pool exhausted')[0]!;
    assert.equal(line['trace_id'], timedOut.traceId);
    const server = spans.find((s) => s.kind === SERVER && s.traceId === timedOut.traceId)!;
    assert.equal(timedOut.parentSpanId, server.spanId);
    assert.equal(server.attributes['http.response.status_code'], 503);
  } finally {
    await svc.close();
    await rx.close();
  }
});

test('two services: the outgoing call carries traceparent, one trace crosses both, each with its own service name', async () => {
  const rx = await startOtlpReceiver();
  const payments = await service(rx, 'payments', (v) => (req, res) => {
    v.logger.info({ traceparent: req.headers['traceparent'] }, 'charging');
    res.end('charged');
  });
  const shop = await service(rx, 'shop', (v) => (_req, res) => {
    void v.track('payment.charge', () => get(`${payments.url}/charge`)).then((r) => res.end(r.body));
  });
  try {
    assert.equal((await get(`${shop.url}/checkout`)).body, 'charged');
    const spans = await rx.waitFor((s) => s.length >= 4, 'spans of both services');
    const shopServer = spans.find((s) => s.service === 'shop' && s.kind === SERVER)!;
    const charge = byName(spans, 'payment.charge');
    const client = spans.find((s) => s.kind === CLIENT)!;
    const payServer = spans.find((s) => s.service === 'payments' && s.kind === SERVER)!;
    assert.ok(
      spans.every((s) => s.traceId === shopServer.traceId),
      'one trace',
    );
    assert.equal(charge.service, 'shop');
    assert.equal(client.service, 'shop', 'the client span belongs to the caller');
    assert.equal(charge.parentSpanId, shopServer.spanId);
    assert.equal(client.parentSpanId, charge.spanId);
    assert.equal(payServer.parentSpanId, client.spanId);
    // The stable HTTP conventions, as on the server spans.
    assert.equal(client.attributes['http.response.status_code'], 200);
    assert.equal(client.attributes['http.request.method'], 'GET');
    assert.equal(client.name, 'GET');
    const line = payments.logs.withMsg('charging')[0]!;
    assert.equal(line['traceparent'], `00-${shopServer.traceId}-${client.spanId}-01`);
    assert.equal(line['trace_id'], shopServer.traceId);
    assert.equal(line['span_id'], payServer.spanId);
  } finally {
    await shop.close();
    await payments.close();
    await rx.close();
  }
});

// A service in a process of its own, as in production: it exports to the same receiver.
const CHILD = `
import { createServer } from 'node:http';
const { createVigil } = await import(process.env.SDK_URL);
const vigil = createVigil({ service: 'child', defaultMetrics: false, traces: { endpoint: process.env.RX_URL, exportIntervalMs: 50 } });
const server = createServer(vigil.httpMiddleware((req, res) => {
  vigil.logger.info('child handled');
  res.end(req.headers.traceparent ?? '');
}));
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.on('SIGTERM', () => { server.close(); void vigil.shutdown().then(() => process.exit(0)); });
`;

test('two processes: traceparent crosses the wire and both export to one trace', async () => {
  const rx = await startOtlpReceiver();
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, SDK_URL: new URL('./index.js', import.meta.url).href, RX_URL: rx.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const childLines: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines)
        if (/^\d+$/.test(l)) resolve(Number(l));
        else childLines.push(l);
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
  const parent = await service(rx, 'parent', (v) => (_req, res) => {
    void v.track('call.child', () => get(`http://127.0.0.1:${port}/`)).then((r) => res.end(r.body));
  });
  try {
    const sent = (await get(parent.url)).body;
    const spans = await rx.waitFor(
      (s) => s.some((x) => x.service === 'child') && s.filter((x) => x.service === 'parent').length >= 3,
      'spans of both processes',
    );
    const client = spans.find((s) => s.service === 'parent' && s.kind === CLIENT)!;
    const childServer = spans.find((s) => s.service === 'child')!;
    assert.equal(sent, `00-${client.traceId}-${client.spanId}-01`, 'the child received the client span as parent');
    assert.equal(childServer.traceId, client.traceId);
    assert.equal(childServer.parentSpanId, client.spanId);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const line = childLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'child handled');
    assert.deepEqual([line?.['trace_id'], line?.['span_id']], [childServer.traceId, childServer.spanId]);
  } finally {
    child.kill();
    await parent.close();
    await rx.close();
  }
});

test('sampling: ratio 0 exports nothing yet logs keep trace ids; ratio 1 everything; the parent decides when there is one', async () => {
  const rx = await startOtlpReceiver();
  const handler = (v: Vigil) => (_req: unknown, res: { end(s: string): void }) => {
    v.logger.info('handled');
    res.end(v.traceparent() ?? '');
  };
  const never = await service(rx, 'never', handler, { traces: { endpoint: rx.url, exportIntervalMs: 50, sampleRatio: 0 } });
  const always = await service(rx, 'always', handler, { traces: { endpoint: rx.url, exportIntervalMs: 50, sampleRatio: 1 } });
  const sampled = '11111111111111111111111111111111';
  const unsampled = '22222222222222222222222222222222';
  try {
    for (let i = 0; i < 20; i++) {
      const tp = await get(never.url);
      assert.match(tp.body, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, 'an unsampled trace still propagates, flagged 00');
    }
    for (let i = 0; i < 20; i++) assert.match((await get(always.url)).body, /-01$/);
    await get(never.url, { traceparent: `00-${sampled}-1111111111111111-01` });
    await get(always.url, { traceparent: `00-${unsampled}-2222222222222222-00` });
    await never.vigil.tracing!.flush();
    await always.vigil.tracing!.flush();
    await rx.waitFor((s) => s.length >= 21, 'the sampled spans');
    await sleep(200);
    const neverSpans = rx.spans.filter((s) => s.service === 'never');
    assert.deepEqual(
      neverSpans.map((s) => s.traceId),
      [sampled],
      'ratio 0 records only the trace whose parent was sampled',
    );
    const alwaysSpans = rx.spans.filter((s) => s.service === 'always');
    assert.equal(alwaysSpans.length, 20, 'ratio 1 records every new trace, not the one whose parent was not sampled');
    assert.ok(!alwaysSpans.some((s) => s.traceId === unsampled));
    const neverLines = never.logs.withMsg('handled');
    assert.equal(neverLines.length, 21);
    assert.ok(neverLines.every((l) => /^[0-9a-f]{32}$/.test(String(l['trace_id'])) && /^[0-9a-f]{16}$/.test(String(l['span_id']))));
    assert.equal(new Set(neverLines.map((l) => l['trace_id'])).size, 21);
    assert.equal(always.logs.withMsg('handled').find((l) => l['trace_id'] === unsampled)?.['trace_id'], unsampled);
  } finally {
    await never.close();
    await always.close();
    await rx.close();
  }
});

test('a middle sampling ratio keeps about that share of traces', async () => {
  const rx = await startOtlpReceiver();
  const logs = captureLogs();
  const vigil = createVigil({
    service: 'half',
    defaultMetrics: false,
    logDestination: logs,
    traces: { endpoint: rx.url, sampleRatio: 0.25, exportIntervalMs: 50 },
  });
  try {
    for (let i = 0; i < 2000; i++) vigil.track('op', () => i);
    await vigil.tracing!.flush();
    const n = rx.spans.length;
    // Binomial(2000, 0.25): mean 500, sd about 19; ±100 is over five sd.
    assert.ok(n > 400 && n < 600, `${n} of 2000 sampled at 0.25`);
  } finally {
    await vigil.shutdown();
    await rx.close();
  }
});

test('an endpoint answering 404 neither breaks the service nor floods its log: one line a minute', async () => {
  const rx = await startOtlpReceiver();
  rx.respondWith(404);
  const svc = await service(rx, 'lonely', (v) => (_req, res) => void v.track('work', () => res.end('fine')));
  try {
    // Exports run on the processor's timer, armed inside a request; no explicit flush.
    for (let round = 0; round < 5; round++) {
      assert.equal((await get(svc.url)).body, 'fine');
      const seen = rx.requests.length;
      while (rx.requests.length === seen) await sleep(10);
    }
    assert.ok(rx.requests.length >= 5, `${rx.requests.length} export attempts`);
    const warnings = svc.logs.withMsg('trace export failed');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.['endpoint'], rx.url);
    assert.deepEqual([warnings[0]?.['trace_id'], warnings[0]?.['request_id']], [undefined, undefined], 'the warning is not part of any request');
    assert.match(JSON.stringify(warnings[0]?.['err']), /404/);
    const failed = async () =>
      seriesValue((await svc.vigil.metrics()).body, 'vigil_trace_spans_exported_total{outcome="failure",service="lonely",environment="test"}') ?? 0;
    for (let i = 0; i < 100 && (await failed()) < 10; i++) await sleep(20);
    assert.equal(await failed(), 10, 'a server and a track span per request, counted as failed');
    // Spans still queued at shutdown fail to export too; shutting down succeeds all the same.
    await get(svc.url);
    const before = rx.requests.length;
    await svc.close();
    assert.ok(rx.requests.length > before, 'the last spans were sent at shutdown');
  } finally {
    await svc.close();
    await rx.close();
  }
});

test('the default endpoint sits beside Vigil: the OTel variable, the Loki base URL, or the local port', () => {
  const saved = process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  delete process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  try {
    assert.equal(tracesEndpoint({ endpoint: 'http://x:1/v1/traces' }, 'http://y:2'), 'http://x:1/v1/traces');
    assert.equal(tracesEndpoint({}, 'http://vigil:9466/'), 'http://vigil:9466/v1/traces');
    assert.equal(tracesEndpoint({}, 'http://vigil:9466/loki/api/v1/push'), 'http://vigil:9466/v1/traces');
    assert.equal(tracesEndpoint({}), 'http://127.0.0.1:9466/v1/traces');
    process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] = 'http://collector:4318/v1/traces';
    assert.equal(tracesEndpoint({}, 'http://vigil:9466'), 'http://collector:4318/v1/traces');
  } finally {
    if (saved === undefined) delete process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
    else process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] = saved;
  }
  assert.throws(
    () => createVigil({ service: 'x', defaultMetrics: false, logDestination: captureLogs(), traces: { sampleRatio: 2 } }),
    /sampleRatio must be between 0 and 1/,
  );
});

test('another exporter can take the spans; parentBased false samples by the ratio alone', async () => {
  const memory = new InMemorySpanExporter();
  const logs = captureLogs();
  const vigil = createVigil({ service: 'mem', defaultMetrics: false, logDestination: logs, traces: { exporter: memory, sampleRatio: 0, parentBased: false } });
  const srv = await listen(createServer(vigil.httpMiddleware((_req, res) => void vigil.track('inner', () => res.end('ok')))));
  try {
    await get(srv.url, { traceparent: '00-44444444444444444444444444444444-4444444444444444-01' });
    await vigil.tracing!.flush();
    assert.equal(memory.getFinishedSpans().length, 0, 'ratio 0 without parent-based sampling records nothing, even under a sampled parent');
    assert.equal(logs.withMsg('request completed')[0]?.['trace_id'], '44444444444444444444444444444444');
  } finally {
    await srv.close();
    await vigil.shutdown();
  }
  const kept = new InMemorySpanExporter();
  const v2 = createVigil({ service: 'mem2', defaultMetrics: false, logDestination: captureLogs(), traces: { exporter: kept } });
  v2.track('solo', () => 1);
  await v2.tracing!.flush();
  assert.deepEqual(
    kept.getFinishedSpans().map((s) => [s.name, s.resource.attributes['service.name']]),
    [['solo', 'mem2']],
  );
  await v2.shutdown();
});
