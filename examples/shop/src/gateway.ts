/**
 * The payment gateway: a second small service (`payment-gateway`, its own HTTP server and its own
 * Vigil instance) that the shop calls over HTTP for every charge, so a checkout's trace crosses
 * two services. About 80 ms per charge and 2% declines normally; under the fault it answers in
 * seconds, past the shop's client-side timeout.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createVigil, type Vigil, type VigilOptions } from '@vigil/sdk';

/** The gateway's service name, in its spans and log lines. */
export const GATEWAY_SERVICE = 'payment-gateway';

/** The gateway did not answer in time. */
export class GatewayTimeoutError extends Error {
  override readonly name = 'GatewayTimeoutError';
  readonly code = 'ETIMEDOUT' as const;
}

/** The gateway answered with an error status, or the connection failed. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
}

/** The outcome of a charge. */
export type ChargeResult = 'success' | 'declined';

/** Options of the gateway service and of the shop's client of it. */
export interface GatewayOptions {
  /** Client-side timeout of a charge (default 10 s). */
  readonly timeoutMs?: number;
  /** Latency range under the fault (default 4–12 s). */
  readonly faultLatencyMs?: readonly [number, number];
  /** Share of declined cards (default 0.02). */
  readonly declineRate?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A running gateway service. */
export interface GatewayService {
  readonly url: string;
  readonly vigil: Vigil;
  /** When true, the gateway is slow: the incident. */
  degraded: boolean;
  close(): Promise<void>;
}

/** Options of {@link startGatewayService}. */
export interface GatewayServiceOptions extends GatewayOptions {
  /** Port (default 0: a free one). */
  readonly port?: number;
  readonly host?: string;
  readonly fault?: boolean;
  /** SDK options beyond the service name (log destination, Loki, traces). */
  readonly vigil?: Omit<VigilOptions, 'service'>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let s = '';
  for await (const chunk of req) {
    s += String(chunk);
    if (s.length > 4096) throw new RangeError('body too large');
  }
  const v: unknown = s === '' ? {} : JSON.parse(s);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Starts the payment gateway: `POST /charge {"amount_cents": N}`, `GET|POST /admin/fault`. */
export async function startGatewayService(opts: GatewayServiceOptions = {}): Promise<GatewayService> {
  // No access log: each charge logs its own line, which says more.
  const vigil = createVigil({ environment: 'demo', ...opts.vigil, http: { ...opts.vigil?.http, accessLog: false }, service: GATEWAY_SERVICE });
  const log = vigil.logger;
  const [lo, hi] = opts.faultLatencyMs ?? [4000, 12_000];
  const declineRate = opts.declineRate ?? 0.02;
  const state = { degraded: opts.fault ?? false };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const key = `${req.method ?? 'GET'} ${(req.url ?? '/').split('?')[0] ?? '/'}`;
    try {
      if (key === 'POST /charge') {
        const body = await readJson(req);
        const cents = Number(body['amount_cents']);
        if (!Number.isInteger(cents) || cents <= 0) return send(res, 400, { error: 'amount_cents must be a positive integer' });
        const latency = state.degraded ? lo + Math.random() * (hi - lo) : 40 + Math.random() * 80;
        await vigil.track('card.authorize', () => sleep(latency));
        if (res.destroyed) {
          // The shop gave up waiting; the charge is still settled, as real gateways do.
          log.warn({ amount_cents: cents, latency_ms: Math.round(latency) }, 'client went away before the charge answered');
          return;
        }
        const status: ChargeResult = Math.random() < declineRate ? 'declined' : 'success';
        log.info({ amount_cents: cents, status, latency_ms: Math.round(latency) }, 'charge processed');
        return send(res, 200, { status });
      }
      if (key === 'GET /admin/fault') return send(res, 200, { enabled: state.degraded });
      if (key === 'POST /admin/fault') {
        state.degraded = (await readJson(req))['enabled'] === true;
        return send(res, 200, { enabled: state.degraded });
      }
      return send(res, 404, { error: 'not found' });
    } catch (err) {
      if (err instanceof SyntaxError || err instanceof RangeError) return send(res, 400, { error: err.message });
      log.error({ err }, 'charge failed unexpectedly');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    }
  };

  const server = createServer(vigil.httpMiddleware((req, res) => void handle(req, res), { routes: ['/charge', '/admin/fault'] }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const url = `http://${opts.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    vigil,
    get degraded() {
      return state.degraded;
    },
    set degraded(v: boolean) {
      state.degraded = v;
    },
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await vigil.shutdown();
      })()),
  };
}

/**
 * The shop's client of the gateway: a `POST /charge` over node:http (so the call is a client span
 * and carries `traceparent`), given up after the timeout.
 */
export class PaymentGateway {
  private readonly timeoutMs: number;

  constructor(
    private readonly url: string,
    opts: GatewayOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Charges a card; throws {@link GatewayTimeoutError} past the timeout, {@link GatewayError} on a failure. */
  charge(amountCents: number): Promise<ChargeResult> {
    const body = JSON.stringify({ amount_cents: amountCents });
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.url}/charge`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: this.timeoutMs },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('error', (err) => reject(new GatewayError(`payment gateway response: ${err.message}`)));
          res.on('end', () => {
            if (res.statusCode !== 200) return reject(new GatewayError(`payment gateway answered ${res.statusCode ?? 0}: ${text.slice(0, 200)}`));
            const status = (JSON.parse(text) as { status?: unknown }).status;
            if (status === 'success' || status === 'declined') resolve(status);
            else reject(new GatewayError(`payment gateway answered an unknown status ${String(status)}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new GatewayTimeoutError(`payment gateway did not answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof GatewayTimeoutError ? err : new GatewayError(`payment gateway unreachable: ${err.message}`)));
      req.end(body);
    });
  }
}
