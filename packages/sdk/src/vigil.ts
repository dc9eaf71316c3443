/**
 * `createVigil()`: one call that sets up metrics (prom-client, with the default process and Node
 * metrics), the logger (pino, request context, redaction, optional Loki shipping) and the HTTP,
 * function, business and saturation instruments, all on one registry.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream, Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { BusinessMetrics } from './business.js';
import { CardinalityGuard } from './cardinality.js';
import { currentContext, outgoingTraceparent, setUserId, type RequestContext } from './context.js';
import { metricsListener, renderMetrics, type Exposition } from './exposition.js';
import { HttpMetrics, type HttpMetricsOptions } from './http/metrics.js';
import {
  expressMiddleware,
  fastifyPlugin,
  nodeMiddleware,
  type ExpressMiddleware,
  type FastifyPlugin,
  type MiddlewareOptions,
  type NodeMiddlewareOptions,
} from './http/middleware.js';
import { createLogger, type RedactOption } from './logger.js';
import { startMetricsExport, type OtlpMetricsExport, type OtlpMetricsOptions } from './otlp-metrics.js';
import { PoolInstruments } from './pool.js';
import { LokiShipper, type LokiOptions } from './shipper.js';
import { injectHeaders, startTracing, type TracesOptions, type VigilTracing } from './tracing.js';
import { Tracker, type ErrorClass, type ErrorClassifier, type TrackOptions } from './track.js';

/** Options of {@link createVigil}; only `service` is required. */
export interface VigilOptions {
  /** The service name: the `service` label on every series and field on every log line. */
  readonly service: string;
  /** e.g. `production`; a label and log field when given, and the traces' `deployment.environment`. */
  readonly environment?: string;
  /** The service's version: the traces' `service.version` resource attribute. */
  readonly version?: string;
  /**
   * Tracing with OpenTelemetry: a server span per request, a span per `track()` call and pool
   * acquire, spans of outgoing node:http calls, exported as OTLP to Vigil's `/v1/traces`.
   * Off unless given; `true` takes every default.
   */
  readonly traces?: TracesOptions | boolean;
  /**
   * Push the metrics over OTLP/HTTP to Vigil's `/v1/metrics` (or any OTLP receiver), besides or
   * instead of being scraped; the series arrive with the names a scrape gives them. Off unless given;
   * `true` takes every default.
   */
  readonly otlpMetrics?: OtlpMetricsOptions | boolean;
  /** pino level (default `info`, or `LOG_LEVEL`). */
  readonly logLevel?: string;
  /** Redaction of secrets in logs; on by default. */
  readonly redact?: RedactOption;
  /** Collect prom-client's process and Node metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** The cap on label sets per metric (default 1000). */
  readonly maxLabelSets?: number;
  /** Ship logs to a Loki-compatible push endpoint. */
  readonly loki?: LokiOptions;
  /** Use this registry instead of a new one. */
  readonly registry?: Registry;
  /** Where log lines go (default stdout); tests pass a stream to capture them. */
  readonly logDestination?: DestinationStream;
  /** Error classification for `track` and `recordError`, before the default one. */
  readonly classifyError?: ErrorClassifier;
  /** HTTP metric options: duration buckets, access log. */
  readonly http?: HttpMetricsOptions;
  /** Add `service` (and `environment`) as labels on every series (default true). */
  readonly serviceLabels?: boolean;
}

/** A callback gauge: the value, or one value per label set, read at every scrape. */
export interface GaugeCallbackOptions<L extends string = string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  readonly collect: () =>
    | number
    | ReadonlyArray<{ readonly labels: Readonly<Record<L, string>>; readonly value: number }>
    | Promise<number | ReadonlyArray<{ readonly labels: Readonly<Record<L, string>>; readonly value: number }>>;
}

/** Where a metrics server listens. */
export interface MetricsServerOptions {
  readonly port?: number;
  readonly host?: string;
  /** Path of the metrics (default `/metrics`); anything else is 404. */
  readonly path?: string;
}

/** An instrumented service. */
export interface Vigil {
  /** The service name. */
  readonly service: string;
  /** The prom-client registry holding every metric. */
  readonly registry: Registry;
  /** The pino logger; child loggers inherit the request context. */
  readonly logger: Logger;
  /** Business events and funnels. */
  readonly business: BusinessMetrics;
  /** Connection-pool saturation. */
  readonly pool: PoolInstruments;
  /** Wraps a node:http request listener with the golden signals and request context. */
  httpMiddleware(handler: RequestListener, opts?: NodeMiddlewareOptions): RequestListener;
  /** Express middleware; `app.use()` it before the routes. */
  expressMiddleware(opts?: MiddlewareOptions): ExpressMiddleware;
  /** A Fastify plugin; `await app.register(vigil.fastifyPlugin())`. */
  fastifyPlugin(opts?: MiddlewareOptions): FastifyPlugin;
  /** Runs `fn` (sync or async) recording latency, outcome and errors under `name`. */
  track<T>(name: string, fn: () => T, opts?: TrackOptions): T;
  /** A method decorator doing {@link Vigil.track} on every call (name default `Class.method`). */
  tracked(name?: string, opts?: TrackOptions): ReturnType<Tracker['decorator']>;
  /** Counts an error from `source` in `errors_total`; returns its class. */
  recordError(source: string, err: unknown): ErrorClass;
  /** Registers a gauge whose value is read from `collect` at every scrape. */
  gauge<L extends string>(opts: GaugeCallbackOptions<L>): Gauge<L>;
  /** The current request's context, if any. */
  context(): RequestContext | undefined;
  /** Sets the current request's user (its log lines then carry `user_id`). */
  setUser(userId: string | undefined): void;
  /** A `traceparent` for an outgoing call within the current request (or active span, with tracing). */
  traceparent(): string | undefined;
  /** The instance's tracing, when the `traces` option turned it on. */
  readonly tracing: VigilTracing | undefined;
  /** The instance's OTLP metrics export, when the `otlpMetrics` option turned it on. */
  readonly otlpMetrics: OtlpMetricsExport | undefined;
  /** A request listener serving the metrics (Prometheus text or OpenMetrics, by Accept). */
  metricsHandler(): RequestListener;
  /** The metrics rendered for an Accept header. */
  metrics(accept?: string): Promise<Exposition>;
  /** Serves the metrics on a port of their own; closed by {@link Vigil.shutdown}. */
  serveMetrics(opts?: MetricsServerOptions): Promise<{ readonly url: string; close(): Promise<void> }>;
  /** Flushes logs (shipping what is buffered, up to `timeoutMs`), exports spans and metrics a last time, closes metrics servers. Idempotent. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Sets up instrumentation for a service. */
export function createVigil(opts: VigilOptions): Vigil {
  const registry = opts.registry ?? new Registry();
  const defaultLabels: Record<string, string> = {};
  if (opts.serviceLabels !== false) {
    defaultLabels['service'] = opts.service;
    if (opts.environment !== undefined) defaultLabels['environment'] = opts.environment;
    registry.setDefaultLabels(defaultLabels);
  }
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const guard = new CardinalityGuard(registry, opts.maxLabelSets ?? 1000);

  const streamLabels: Record<string, string> = { service: opts.service };
  if (opts.environment !== undefined) streamLabels['environment'] = opts.environment;
  const shipper = opts.loki ? new LokiShipper(opts.loki, streamLabels, registry) : undefined;
  let destination: DestinationStream | undefined = opts.logDestination;
  if (shipper) {
    const local = opts.logDestination ?? process.stdout;
    destination = {
      write(line: string) {
        local.write(line);
        shipper.write(line);
      },
    };
  }
  const logger = createLogger({
    service: opts.service,
    environment: opts.environment,
    level: opts.logLevel ?? process.env['LOG_LEVEL'],
    redact: opts.redact,
    destination,
  });

  const tracing =
    opts.traces === undefined || opts.traces === false
      ? undefined
      : startTracing(
          opts.traces === true ? {} : opts.traces,
          { service: opts.service, version: opts.version, environment: opts.environment },
          logger,
          opts.loki?.url,
          registry,
        );
  const http = new HttpMetrics(registry, guard, logger, opts.http);
  const tracker = new Tracker(registry, guard, opts.classifyError, tracing);
  const business = new BusinessMetrics(registry, guard);
  const pool = new PoolInstruments(registry, tracing);
  const servers = new Set<Server>();
  // After the instruments: the exponential latency histograms listen to theirs.
  const otlpMetrics =
    opts.otlpMetrics === undefined || opts.otlpMetrics === false
      ? undefined
      : startMetricsExport(opts.otlpMetrics === true ? {} : opts.otlpMetrics, {
          id: { service: opts.service, version: opts.version, environment: opts.environment },
          logger,
          registry,
          defaultLabels,
          lokiUrl: opts.loki?.url,
        });

  // Buffered log lines would be lost when the event loop empties; ship them first.
  const onBeforeExit = (): void => void shipper?.flush();
  if (shipper) process.on('beforeExit', onBeforeExit);

  let shuttingDown: Promise<void> | undefined;
  const vigil: Vigil = {
    service: opts.service,
    registry,
    logger,
    business,
    pool,
    tracing,
    otlpMetrics,
    httpMiddleware: (handler, o) => nodeMiddleware(http, handler, o, tracing),
    expressMiddleware: (o) => expressMiddleware(http, o, tracing),
    fastifyPlugin: (o) => fastifyPlugin(http, o, tracing),
    track: (name, fn, o) => tracker.track(name, fn, o),
    tracked: (name, o) => tracker.decorator(name, o),
    recordError: (source, err) => tracker.recordError(source, err),
    gauge<L extends string>(g: GaugeCallbackOptions<L>): Gauge<L> {
      const gauge: Gauge<L> = new Gauge<L>({
        name: g.name,
        help: g.help,
        labelNames: [...(g.labelNames ?? [])],
        registers: [registry],
        async collect() {
          const v = await g.collect();
          if (typeof v === 'number') gauge.set(v);
          else {
            gauge.reset();
            for (const { labels, value } of v) gauge.set(labels as Partial<Record<L, string>>, value);
          }
        },
      });
      return gauge;
    },
    context: currentContext,
    setUser: setUserId,
    traceparent: tracing ? () => injectHeaders()['traceparent'] : outgoingTraceparent,
    metricsHandler: () => metricsListener(registry),
    metrics: (accept) => renderMetrics(registry, accept),
    async serveMetrics(o = {}) {
      const path = o.path ?? '/metrics';
      const handler = metricsListener(registry);
      const server = createServer((req, res) => {
        if ((req.url ?? '/').split('?')[0] === path) handler(req, res);
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
      });
      servers.add(server);
      const a = server.address() as AddressInfo;
      const close = (): Promise<void> =>
        new Promise((resolve) => {
          if (!servers.delete(server)) return resolve();
          server.close(() => resolve());
          server.closeAllConnections();
        });
      return { url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}${path}`, close };
    },
    shutdown(timeoutMs = 5000) {
      shuttingDown ??= (async () => {
        process.removeListener('beforeExit', onBeforeExit);
        await Promise.all(
          [...servers].map(
            (s) =>
              new Promise<void>((resolve) => {
                servers.delete(s);
                s.close(() => resolve());
                s.closeAllConnections();
              }),
          ),
        );
        // Spans first: the exporter may log a failure, which the shipper should still carry.
        if (tracing) await Promise.race([tracing.shutdown(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
        // The last export carries the final counts of a short-lived job.
        if (otlpMetrics) await Promise.race([otlpMetrics.shutdown(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
        if (shipper) await shipper.close(timeoutMs);
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
      })();
      return shuttingDown;
    },
  };
  return vigil;
}
