/**
 * The demo shop: product pages, a cart, and a checkout whose payment step calls the payment
 * gateway service over HTTP while holding a connection from a simulated database pool of 20.
 * Instrumented only through Vigil's SDK (metrics, logs and, with the `traces` option, spans
 * across both services); serves `/metrics` and `/health`.
 *
 * The fault (`POST /admin/fault {"enabled":true}` or `--fault`) reproduces the 3 a.m. incident:
 * the gateway slows down, payments hold their connections for seconds, the pool reaches 20/20,
 * requests queue and time out, the error rate climbs, and `/health` still answers 200.
 *
 * CLI: `node examples/shop/dist/main.js [--port 8765] [--host 127.0.0.1] [--fault]`
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { compileRoutes, createVigil, type Vigil, type VigilOptions } from '@vigil/sdk';
import { SimPool } from './db.js';
import { PaymentGateway, startGatewayService, type GatewayOptions, type GatewayService } from './gateway.js';

/** The shop's default port. */
export const SHOP_PORT = 8765;
/** The pool's name in metrics and alerts. */
export const POOL_NAME = 'orders-db';

/** Options of {@link startShop}. */
export interface ShopOptions {
  /** Port (default 8765; 0 picks a free one). */
  readonly port?: number;
  readonly host?: string;
  /** Start with the fault on. */
  readonly fault?: boolean;
  /** Database pool size (default 20, the seed's). */
  readonly poolSize?: number;
  /** How long a request waits for a connection (default 2000 ms). */
  readonly acquireTimeoutMs?: number;
  /** The payment gateway's timings. */
  readonly gateway?: GatewayOptions;
  /**
   * SDK options beyond the service name (log destination, level, Loki, traces); the payment
   * gateway the shop starts beside itself gets the same ones under its own service name.
   */
  readonly vigil?: Omit<VigilOptions, 'service'>;
}

/** A running shop. */
export interface Shop {
  readonly url: string;
  readonly port: number;
  readonly vigil: Vigil;
  readonly pool: SimPool;
  /** The payment gateway service the shop calls over HTTP. */
  readonly gateway: GatewayService;
  /** Whether the fault is on. */
  fault(): boolean;
  setFault(enabled: boolean): void;
  close(): Promise<void>;
}

interface Product {
  readonly id: string;
  readonly name: string;
  readonly priceCents: number;
}

/** The catalogue. */
export const PRODUCTS: readonly Product[] = [
  ['espresso-machine', 'Espresso machine', 24900],
  ['grinder', 'Burr grinder', 12900],
  ['kettle', 'Gooseneck kettle', 6900],
  ['scale', 'Coffee scale', 3900],
  ['beans-ethiopia', 'Ethiopia Yirgacheffe 250g', 1450],
  ['beans-colombia', 'Colombia Huila 250g', 1300],
  ['beans-kenya', 'Kenya AA 250g', 1600],
  ['mug', 'Ceramic mug', 1800],
  ['filter-papers', 'Filter papers x100', 600],
  ['dripper', 'Pour-over dripper', 2900],
  ['tamper', 'Steel tamper', 3400],
  ['milk-jug', 'Milk jug', 2100],
].map(([id, name, priceCents]) => ({ id: id as string, name: name as string, priceCents: priceCents as number }));
const byId = new Map(PRODUCTS.map((p) => [p.id, p]));

const ROUTES = ['/products', '/products/:id', '/cart', '/cart/items', '/checkout', '/health', '/metrics', '/admin/fault', '/runbook'];

const jitter = (lo: number, hi: number): number => lo + Math.random() * (hi - lo);

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let s = '';
  for await (const chunk of req) {
    s += String(chunk);
    if (s.length > 65536) throw new RangeError('body too large');
  }
  if (s === '') return {};
  const v: unknown = JSON.parse(s);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Starts the shop. */
export async function startShop(opts: ShopOptions = {}): Promise<Shop> {
  const vigil = createVigil({ service: 'shop', environment: 'demo', ...opts.vigil });
  const log = vigil.logger;
  const pool = vigil.pool.instrumentPg(POOL_NAME, new SimPool({ max: opts.poolSize ?? 20, connectionTimeoutMillis: opts.acquireTimeoutMs ?? 2000 }));
  // The gateway is a service of its own (own HTTP server, own Vigil instance and service name), so
  // a checkout's trace crosses two services. Its metrics are not scraped: the shop's tell the story.
  const { registry: _ownRegistry, ...shared } = opts.vigil ?? {};
  void _ownRegistry;
  const gatewayService = await startGatewayService({ ...opts.gateway, fault: opts.fault ?? false, vigil: { ...shared, defaultMetrics: false } });
  const gateway = new PaymentGateway(gatewayService.url, opts.gateway);
  const funnel = vigil.business.funnel('shop', ['page_view', 'add_to_cart', 'purchase']);
  vigil.business.define('payment', { help: 'Payment attempts, by status (success, declined, error).', labelNames: ['status'] });
  vigil.business.define('purchase', { help: 'Completed orders; the value is revenue in dollars.' });
  const carts = new Map<string, Map<string, number>>();
  const metrics = vigil.metricsHandler();
  const match = compileRoutes(ROUTES);
  let runbook: string | undefined;

  const userOf = (req: IncomingMessage): string => {
    const u = req.headers['x-user-id'];
    return typeof u === 'string' && /^[\w-]{1,64}$/.test(u) ? u : 'anonymous';
  };
  const cartOf = (user: string): Map<string, number> => {
    let c = carts.get(user);
    if (!c) {
      if (carts.size >= 10_000) carts.delete(carts.keys().next().value as string);
      carts.set(user, (c = new Map()));
    }
    return c;
  };
  /** A query through the pool; pool timeouts become errors_total{source="db.query"}. */
  const query = (sql: string, ms: number): Promise<void> => vigil.track('db.query', () => pool.query(sql, ms));

  const checkout = async (user: string): Promise<[number, unknown]> => {
    const cart = cartOf(user);
    if (cart.size === 0) return [400, { error: 'cart is empty' }];
    let cents = 0;
    for (const [id, qty] of cart) cents += (byId.get(id)?.priceCents ?? 0) * qty;
    const conn = await vigil.track('db.acquire', () => pool.connect());
    try {
      await conn.query('INSERT INTO orders …', jitter(5, 15));
      // The incident's root cause: the order's connection stays checked out during the gateway call.
      let status: 'success' | 'declined' | 'error';
      try {
        status = await vigil.track('payment.charge', () => gateway.charge(cents));
      } catch (err) {
        status = 'error';
        log.error({ err, amount_cents: cents }, 'payment failed');
      }
      vigil.business.event('payment', { value: cents / 100, labels: { status } });
      if (status === 'declined') {
        log.warn({ amount_cents: cents }, 'card declined');
        return [402, { error: 'card declined' }];
      }
      if (status === 'error') return [502, { error: 'payment gateway unavailable' }];
      await conn.query('UPDATE orders SET paid …', jitter(3, 8));
      vigil.business.event('purchase', { value: cents / 100 });
      funnel.step('purchase');
      log.info({ amount_cents: cents, items: cart.size }, 'order placed');
      cart.clear();
      return [201, { status: 'paid', amount_cents: cents }];
    } finally {
      conn.release();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const route = match(req.url ?? '/');
    const key = `${req.method ?? 'GET'} ${route ?? ''}`;
    const user = userOf(req);
    if (user !== 'anonymous') vigil.setUser(user);
    try {
      switch (key) {
        case 'GET /health':
          // Liveness only: the process answers, whatever the pool's state. That is the incident's trap.
          return send(res, 200, { status: 'ok' });
        case 'GET /metrics':
          return metrics(req, res);
        case 'GET /products':
          await query('SELECT * FROM products', jitter(5, 15));
          return send(res, 200, { products: PRODUCTS });
        case 'GET /products/:id': {
          const id = decodeURIComponent((req.url ?? '').split('?')[0]?.split('/')[2] ?? '');
          const p = byId.get(id);
          if (!p) return send(res, 404, { error: 'no such product' });
          await query('SELECT * FROM products WHERE id = $1', jitter(2, 8));
          vigil.business.event('page_view');
          funnel.step('page_view');
          return send(res, 200, p);
        }
        case 'GET /cart':
          return send(res, 200, { items: Object.fromEntries(cartOf(user)) });
        case 'POST /cart/items': {
          const body = await readJson(req);
          const id = String(body['productId'] ?? '');
          const qty = Math.max(1, Math.min(10, Number(body['quantity'] ?? 1) || 1));
          if (!byId.has(id)) return send(res, 404, { error: 'no such product' });
          await query('INSERT INTO cart_items …', jitter(3, 8));
          const cart = cartOf(user);
          cart.set(id, (cart.get(id) ?? 0) + qty);
          vigil.business.event('add_to_cart');
          funnel.step('add_to_cart');
          return send(res, 201, { items: Object.fromEntries(cart) });
        }
        case 'POST /checkout': {
          const [status, body] = await vigil.track('checkout', () => checkout(user));
          return send(res, status, body);
        }
        case 'GET /admin/fault':
          return send(res, 200, { enabled: gatewayService.degraded });
        case 'POST /admin/fault': {
          const body = await readJson(req);
          gatewayService.degraded = body['enabled'] === true;
          log.warn({ fault: gatewayService.degraded }, gatewayService.degraded ? 'fault injected: payment gateway degraded' : 'fault cleared');
          return send(res, 200, { enabled: gatewayService.degraded });
        }
        case 'GET /runbook':
          runbook ??= readFileSync(fileURLToPath(new URL('../RUNBOOK.md', import.meta.url)), 'utf8');
          res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' });
          return void res.end(runbook);
        default:
          return send(res, route === undefined ? 404 : 405, { error: route === undefined ? 'not found' : 'method not allowed' });
      }
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      if (name === 'PoolTimeoutError') {
        log.error({ err, pool: POOL_NAME }, 'database pool exhausted');
        return send(res, 503, { error: 'service unavailable: database pool exhausted' });
      }
      if (err instanceof SyntaxError || err instanceof RangeError) return send(res, 400, { error: err.message });
      vigil.recordError('http', err);
      log.error({ err }, 'request failed unexpectedly');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  };

  const server = createServer(vigil.httpMiddleware((req, res) => void handle(req, res), { routes: ROUTES }));
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? SHOP_PORT, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  log.info({ url, fault: gatewayService.degraded, gateway: gatewayService.url }, 'shop listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    vigil,
    pool,
    gateway: gatewayService,
    fault: () => gatewayService.degraded,
    setFault: (enabled) => void (gatewayService.degraded = enabled),
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 1000).unref();
        });
        pool.close();
        await gatewayService.close();
        await vigil.shutdown();
      })()),
  };
}

/** Parses `--port N`, `--host H`, `--fault`. */
export function parseShopArgs(argv: readonly string[]): { port: number; host: string; fault: boolean } {
  const out = { port: SHOP_PORT, host: '127.0.0.1', fault: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--fault') out.fault = true;
    else if (a === '--port') out.port = Number(argv[++i]);
    else if (a?.startsWith('--port=')) out.port = Number(a.slice(7));
    else if (a === '--host') out.host = String(argv[++i]);
    else if (a?.startsWith('--host=')) out.host = a.slice(7);
    else throw new Error(`unknown argument ${a ?? ''} (usage: main.js [--port N] [--host H] [--fault])`);
  }
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) throw new Error('--port must be a port number');
  return out;
}

/** Runs `fn` when this module is the program, and stops the shop on SIGINT/SIGTERM. */
async function cli(): Promise<void> {
  const args = parseShopArgs(process.argv.slice(2));
  const shop = await startShop(args);
  process.stderr.write(`shop on ${shop.url} (metrics ${shop.url}/metrics, fault ${args.fault ? 'on' : 'off'})\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void shop.close().then(() => process.exit(0)));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
