/**
 * The golden-signal HTTP metrics, shared by the node:http, Express and Fastify adapters:
 * duration by method, route template and status code (OpenTelemetry's buckets), requests in
 * flight, and request and response body sizes. Children are cached and capped per metric.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SpanContext } from '@opentelemetry/api';
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { CardinalityGuard, LabelSetCache } from '../cardinality.js';
import { histogramExemplars, type HistogramExemplars } from '../exemplars.js';
import { runWithContext, type RequestContext } from '../context.js';
import type { Logger } from 'pino';
import { UNMATCHED_ROUTE } from './routes.js';

/** OpenTelemetry's semantic-convention buckets for `http.server.request.duration`, in seconds. */
export const OTEL_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Body-size buckets, in bytes. */
export const SIZE_BUCKETS: readonly number[] = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** Options of the HTTP metrics. */
export interface HttpMetricsOptions {
  /** Duration buckets in seconds (default: OpenTelemetry's). */
  readonly durationBuckets?: readonly number[];
  /** Log one line per finished request at info (5xx at error). Default true. */
  readonly accessLog?: boolean;
}

type Observer = { observe(v: number): void };

interface Children {
  duration: Observer;
  responseSize: Observer;
}

/** Resolves the route template once the request has finished (routers fill it in late). */
export type RouteResolver = (req: IncomingMessage, ctx: RequestContext) => string | undefined;

/** How a request's code runs in its context, and what happens to its span when it finishes. */
export interface RequestTrace {
  /** The request's server span, when tracing: its ids become the exemplars of the request's histograms. */
  readonly span?: SpanContext;
  run<T>(fn: () => T): T;
  /** `finished`: the response was sent in full (false when the connection closed before). */
  end(status: number, route: string, finished: boolean): void;
}

/** The HTTP instruments of one Vigil instance. */
export class HttpMetrics {
  private readonly duration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly inFlight: Gauge;
  private readonly requestSize: Histogram<'method' | 'route'>;
  private readonly responseSize: Histogram<'method' | 'route' | 'status_code'>;
  private readonly children: LabelSetCache<Children>;
  private readonly requestChildren: LabelSetCache<Observer>;
  private readonly accessLog: boolean;
  private readonly durationExemplars: HistogramExemplars;
  private readonly requestSizeExemplars: HistogramExemplars;
  private readonly responseSizeExemplars: HistogramExemplars;

  constructor(
    registry: Registry,
    guard: CardinalityGuard,
    private readonly logger: Logger,
    opts: HttpMetricsOptions = {},
  ) {
    this.accessLog = opts.accessLog ?? true;
    const durationBuckets = [...(opts.durationBuckets ?? OTEL_DURATION_BUCKETS)];
    this.duration = new Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'Duration of HTTP server requests, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: durationBuckets,
      registers: [registry],
    });
    this.durationExemplars = histogramExemplars(registry, 'http_server_request_duration_seconds', ['method', 'route', 'status_code'], durationBuckets);
    this.inFlight = new Gauge({
      name: 'http_server_active_requests',
      help: 'HTTP server requests in flight.',
      registers: [registry],
    });
    this.requestSize = new Histogram({
      name: 'http_server_request_body_size_bytes',
      help: 'Size of HTTP request bodies (Content-Length), by method and route template.',
      labelNames: ['method', 'route'],
      buckets: [...SIZE_BUCKETS],
      registers: [registry],
    });
    this.requestSizeExemplars = histogramExemplars(registry, 'http_server_request_body_size_bytes', ['method', 'route'], SIZE_BUCKETS);
    this.responseSize = new Histogram({
      name: 'http_server_response_body_size_bytes',
      help: 'Size of HTTP response bodies, by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [...SIZE_BUCKETS],
      registers: [registry],
    });
    this.responseSizeExemplars = histogramExemplars(registry, 'http_server_response_body_size_bytes', ['method', 'route', 'status_code'], SIZE_BUCKETS);
    // The duration and response-size children share one label set, hence one cap.
    this.children = guard.cache<Children>('http_server_request_duration_seconds');
    this.requestChildren = guard.cache<Observer>('http_server_request_body_size_bytes');
  }

  /**
   * Starts measuring one request; records when the response finishes or the connection closes.
   * @param resolveRoute called once at the end: the route template, or undefined for "unmatched"
   */
  begin(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, resolveRoute: RouteResolver, t?: RequestTrace): void {
    const start = performance.now();
    this.inFlight.inc();
    let written = 0;
    const origWrite = res.write;
    const origEnd = res.end;
    // Count body bytes only when no Content-Length says it; wrapping costs less than a listener.
    res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
      written += byteLength(chunk);
      return (origWrite as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]): ServerResponse {
      if (typeof chunk !== 'function') written += byteLength(chunk);
      return (origEnd as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as ServerResponse['end'];
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      res.removeListener('finish', finish);
      res.removeListener('close', finish);
      this.inFlight.dec();
      const seconds = (performance.now() - start) / 1000;
      const method = KNOWN_METHODS.has(req.method ?? '') ? (req.method as string) : '_OTHER';
      const route = ctx.route ?? resolveRoute(req, ctx) ?? UNMATCHED_ROUTE;
      const status = res.statusCode;
      const statusCode = String(status);
      const cl = res.getHeader('content-length');
      const resBytes = cl === undefined ? written : Number(cl);
      const c = this.children.get(`${method} ${route} ${statusCode}`, () => ({
        duration: this.duration.labels(method, route, statusCode),
        responseSize: this.responseSize.labels(method, route, statusCode),
      }));
      const span = t?.span;
      if (c) {
        c.duration.observe(seconds);
        c.responseSize.observe(resBytes);
        this.durationExemplars.record([method, route, statusCode], seconds, span);
        this.responseSizeExemplars.record([method, route, statusCode], resBytes, span);
      }
      const reqCl = req.headers['content-length'];
      const reqBytes = reqCl === undefined ? 0 : Number(reqCl) || 0;
      const reqChild = this.requestChildren.get(`${method} ${route}`, () => this.requestSize.labels(method, route));
      if (reqChild) {
        reqChild.observe(reqBytes);
        this.requestSizeExemplars.record([method, route], reqBytes, span);
      }
      if (this.accessLog) {
        (t ? t.run.bind(t) : <T>(fn: () => T): T => runWithContext(ctx, fn))(() => {
          const fields = { method, route, status_code: status, duration_ms: Math.round(seconds * 1e6) / 1000, response_bytes: resBytes };
          if (status >= 500) this.logger.error(fields, 'request failed');
          else this.logger.info(fields, done && res.writableFinished ? 'request completed' : 'request aborted');
        });
      }
      t?.end(status, route, res.writableFinished);
    };
    res.on('finish', finish);
    res.on('close', finish);
  }
}

function byteLength(chunk: unknown): number {
  if (chunk === undefined || chunk === null) return 0;
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
