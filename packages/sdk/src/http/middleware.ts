/**
 * The HTTP adapters: a wrapper for node:http request listeners, Express middleware and a Fastify
 * plugin. Each one builds the request context (request id echoed back, trace context, user),
 * runs the rest of the request inside it, and hands the raw request to {@link HttpMetrics}.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { contextFromHeaders, runWithContext, type RequestContext } from '../context.js';
import type { VigilTracing } from '../tracing.js';
import type { HttpMetrics, RequestTrace } from './metrics.js';
import { compileRoutes } from './routes.js';

/** Options shared by every adapter. */
export interface MiddlewareOptions {
  /** The user of a request, e.g. from a verified session; becomes `user_id` in its log lines. */
  readonly userId?: (req: IncomingMessage) => string | undefined;
  /** The header carrying and echoing the request id (default `x-request-id`). */
  readonly requestIdHeader?: string;
}

/** Options of the node:http wrapper. */
export interface NodeMiddlewareOptions extends MiddlewareOptions {
  /**
   * The server's route templates (`/products/:id`, `/static/*`): a request's route label is the
   * first that matches, else `unmatched`. Handlers may also set `currentContext().route` themselves.
   */
  readonly routes?: readonly string[];
}

/** A request entered: its context, how to run code inside it, and its span's ending. */
interface Entered {
  readonly ctx: RequestContext;
  readonly trace: RequestTrace;
}

function enter(req: IncomingMessage, res: ServerResponse, opts: MiddlewareOptions, header: string, tracing: VigilTracing | undefined): Entered {
  if (!tracing) {
    const ctx = contextFromHeaders(req.headers[header], req.headers['traceparent'], opts.userId?.(req));
    res.setHeader(header, ctx.requestId);
    return { ctx, trace: { run: (fn) => runWithContext(ctx, fn), end: () => undefined } };
  }
  // With tracing the server span is the one source of trace and span ids: the request context
  // (and so every log line) takes them from it, and the caller's traceparent becomes its parent.
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const method = req.method ?? 'GET';
  const { span, context: spanContext } = tracing.start(
    method,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': (req.url ?? '/').split('?')[0] ?? '/' } },
    parent,
  );
  const sc = span.spanContext();
  const base = contextFromHeaders(req.headers[header], undefined, opts.userId?.(req));
  const ctx: RequestContext = {
    ...base,
    traceId: sc.traceId,
    spanId: sc.spanId,
    parentSpanId: trace.getSpanContext(parent)?.spanId,
    traceFlags: sc.traceFlags.toString(16).padStart(2, '0'),
  };
  res.setHeader(header, ctx.requestId);
  span.setAttribute('http.request.id', ctx.requestId);
  return {
    ctx,
    trace: {
      span: sc,
      run: (fn) => runWithContext(ctx, () => context.with(spanContext, fn)),
      end(status, route, finished) {
        span.updateName(`${method} ${route}`);
        span.setAttribute('http.route', route);
        // A connection closed before the response was sent has no status code to report.
        if (!finished) span.setAttribute('http.request.aborted', true);
        else {
          span.setAttribute('http.response.status_code', status);
          // OpenTelemetry's HTTP conventions: 5xx is a server span's error, 4xx is the caller's.
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
        }
        span.end();
      },
    },
  };
}

/**
 * Wraps a node:http request listener. The request context follows the handler through `await`
 * (including `for await` over the body); callbacks of raw `req.on('data')` listeners run outside
 * it, as with any EventEmitter, unless bound with `AsyncLocalStorage.bind`.
 */
export function nodeMiddleware(metrics: HttpMetrics, handler: RequestListener, opts: NodeMiddlewareOptions = {}, tracing?: VigilTracing): RequestListener {
  const header = (opts.requestIdHeader ?? 'x-request-id').toLowerCase();
  const match = compileRoutes(opts.routes ?? []);
  const resolve = (req: IncomingMessage): string | undefined => match(req.url ?? '/');
  return (req, res) => {
    const { ctx, trace: t } = enter(req, res, opts, header, tracing);
    metrics.begin(req, res, ctx, resolve, t);
    t.run(() => handler(req, res));
  };
}

/** The Express middleware signature, without depending on Express' types. */
export type ExpressMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

interface ExpressRequestLike {
  route?: { path?: unknown };
  baseUrl?: string;
}

function expressRoute(req: IncomingMessage): string | undefined {
  const r = (req as IncomingMessage & ExpressRequestLike).route;
  if (!r || r.path === undefined) return undefined;
  const p = Array.isArray(r.path) ? r.path.map(String).join('|') : String(r.path);
  return ((req as IncomingMessage & ExpressRequestLike).baseUrl ?? '') + p;
}

/** Express middleware: `app.use(vigil.expressMiddleware())` before the routes. */
export function expressMiddleware(metrics: HttpMetrics, opts: MiddlewareOptions = {}, tracing?: VigilTracing): ExpressMiddleware {
  const header = (opts.requestIdHeader ?? 'x-request-id').toLowerCase();
  return (req, res, next) => {
    const { ctx, trace: t } = enter(req, res, opts, header, tracing);
    metrics.begin(req, res, ctx, expressRoute, t);
    t.run(() => next());
  };
}

/** The parts of a Fastify request the plugin reads. */
export interface FastifyRequestLike {
  readonly raw: IncomingMessage;
  readonly routeOptions?: { readonly url?: string | undefined };
}
/** The parts of a Fastify reply the plugin reads. */
export interface FastifyReplyLike {
  readonly raw: ServerResponse;
}
/** A Fastify hook in callback style. */
export type FastifyHook = (request: FastifyRequestLike, reply: FastifyReplyLike, done: () => void) => void;
/** The parts of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  addHook(name: 'onRequest' | 'preValidation' | 'preHandler', hook: FastifyHook): unknown;
}
/** A Fastify plugin: `await app.register(vigil.fastifyPlugin)`. Applies to the whole instance. */
export type FastifyPlugin = ((instance: FastifyInstanceLike, opts: unknown, done: (err?: Error) => void) => void) & { [k: symbol]: unknown };

/** A Fastify plugin with hooks on every route of the instance it is registered on. */
export function fastifyPlugin(metrics: HttpMetrics, opts: MiddlewareOptions = {}, tracing?: VigilTracing): FastifyPlugin {
  const header = (opts.requestIdHeader ?? 'x-request-id').toLowerCase();
  const entered = new WeakMap<IncomingMessage, RequestTrace>();
  const reenter: FastifyHook = (request, _reply, done) => {
    const t = entered.get(request.raw);
    if (t) t.run(done);
    else done();
  };
  const plugin = ((instance: FastifyInstanceLike, _opts: unknown, done: (err?: Error) => void) => {
    instance.addHook('onRequest', (request, reply, next) => {
      const { ctx, trace: t } = enter(request.raw, reply.raw, opts, header, tracing);
      entered.set(request.raw, t);
      metrics.begin(request.raw, reply.raw, ctx, () => request.routeOptions?.url, t);
      t.run(next);
    });
    // Body parsing leaves the request's async context; enter it again before validation and the handler.
    instance.addHook('preValidation', reenter);
    instance.addHook('preHandler', reenter);
    done();
  }) as FastifyPlugin;
  // fastify-plugin's marker: hooks apply to the parent instance, not an encapsulated child.
  plugin[Symbol.for('skip-override')] = true;
  plugin[Symbol.for('fastify.display-name')] = 'vigil';
  return plugin;
}
