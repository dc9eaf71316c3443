/**
 * Generated traces shaped like the demo's: about 10 spans per trace across 2 to 5 services (the
 * shop, its payment gateway, a database, a cache, a queue), 15 to 25 attributes per span (HTTP,
 * database and RPC conventions, request and user ids), some errors. Seeded, so every run and every
 * test sees the same traces. For tests and the trace benchmark.
 */
import type { Attributes, Span, SpanKind } from '../traces/storage/types.js';

/** A small seeded PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = ['shop', 'payment-gateway', 'inventory', 'postgres-proxy', 'notifier'];
const ROUTES = ['GET /products', 'GET /products/:id', 'POST /checkout', 'GET /cart', 'POST /cart/items'];
const OPS = ['db.pool.acquire', 'SELECT orders', 'INSERT payments', 'redis GET', 'publish order.created', 'render', 'charge card', 'validate cart'];
const resources = new Map<string, Attributes>();

function resourceOf(service: string, r: () => number): Attributes {
  const pod = Math.floor(r() * 3);
  const key = `${service}/${pod}`;
  let res = resources.get(key);
  if (!res)
    resources.set(
      key,
      (res = {
        'service.name': service,
        'service.namespace': 'demo',
        'service.version': '1.4.2',
        'deployment.environment': 'production',
        'host.name': `node-${pod}`,
        'k8s.pod.name': `${service}-7d9f8-${pod}`,
        'telemetry.sdk.language': 'nodejs',
        'telemetry.sdk.name': 'opentelemetry',
        'telemetry.sdk.version': '2.0.1',
        'process.pid': 1000 + pod,
      }),
    );
  return res;
}

const hex = (r: () => number, digits: number): string => {
  let s = '';
  while (s.length < digits)
    s += Math.floor(r() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, digits);
};

/** One trace of about 10 spans starting at `startNs`; `r` drives every choice. */
export function demoTrace(r: () => number, startNs: bigint): Span[] {
  const traceId = hex(r, 32);
  const nServices = 2 + Math.floor(r() * 4);
  const services = SERVICES.slice(0, nServices);
  const failing = r() < 0.05;
  const userId = `user-${Math.floor(r() * 5000)}`;
  const requestId = hex(r, 16);
  const spans: Span[] = [];
  const n = 8 + Math.floor(r() * 5);
  const route = ROUTES[Math.floor(r() * ROUTES.length)]!;
  for (let i = 0; i < n; i++) {
    const service = i === 0 ? 'shop' : services[Math.floor(r() * services.length)]!;
    const parent = i === 0 ? '' : spans[Math.floor(r() * i)]!.spanId;
    const offset = BigInt(i) * 1_000_000n + BigInt(Math.floor(r() * 500_000));
    const dur = BigInt(Math.floor(r() * 50_000_000)) + 100_000n;
    const kind: SpanKind = i === 0 ? 'server' : r() < 0.4 ? 'client' : 'internal';
    const error = failing && (i === 0 || r() < 0.2);
    const attributes: Attributes = {
      'http.request.method': route.split(' ')[0]!,
      'http.route': route.split(' ')[1]!,
      'http.response.status_code': error ? 500 : 200,
      'url.scheme': 'http',
      'server.address': `${service}.demo.svc`,
      'server.port': 8080,
      'network.protocol.version': '1.1',
      'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) vigil-demo/1.0',
      'enduser.id': userId,
      'request.id': requestId,
      'thread.id': Math.floor(r() * 16),
      'code.function': `handle${i}`,
      'code.namespace': `${service}.handlers`,
      'app.cart.items': Math.floor(r() * 10),
      'app.region': r() < 0.5 ? 'eu-west-1' : 'us-east-1',
    };
    const extra = Math.floor(r() * 11);
    if (extra > 0) attributes['db.system'] = 'postgresql';
    if (extra > 1) attributes['db.operation.name'] = 'SELECT';
    if (extra > 2) attributes['db.collection.name'] = 'orders';
    if (extra > 3) attributes['db.query.text'] = 'SELECT * FROM orders WHERE user_id = $1 LIMIT 50';
    if (extra > 4) attributes['db.pool.wait_ms'] = Math.floor(r() * (failing ? 20000 : 20));
    if (extra > 5) attributes['rpc.system'] = 'http';
    if (extra > 6) attributes['messaging.system'] = 'kafka';
    if (extra > 7) attributes['app.order.id'] = `order-${Math.floor(r() * 1e6)}`;
    if (extra > 8) attributes['app.payment.amount'] = Math.round(r() * 50000) / 100;
    if (extra > 9) attributes['app.feature_flag'] = r() < 0.5;
    spans.push({
      traceId,
      spanId: hex(r, 16),
      parentSpanId: parent,
      name: i === 0 ? route : OPS[Math.floor(r() * OPS.length)]!,
      kind,
      startTimeUnixNano: startNs + offset,
      endTimeUnixNano: startNs + offset + dur,
      status: error ? { code: 'error', message: 'timeout acquiring a connection after 20000 ms' } : { code: 'unset', message: '' },
      attributes,
      resource: resourceOf(service, r),
      scope: { name: '@opentelemetry/instrumentation-http', version: '0.203.0' },
      events: error
        ? [
            {
              timeUnixNano: startNs + offset + dur / 2n,
              name: 'exception',
              attributes: { 'exception.type': 'TimeoutError', 'exception.message': 'pool exhausted' },
            },
          ]
        : [],
      links: [],
    });
  }
  return spans;
}
