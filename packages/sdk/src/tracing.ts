/**
 * Tracing on OpenTelemetry JS: one tracer provider per Vigil instance (its own resource: service
 * name, version, environment), parent-based ratio sampling, batched OTLP/HTTP protobuf export to
 * Vigil's `/v1/traces`. The OpenTelemetry context (AsyncLocalStorage) is the one place the active
 * span lives; the request context and the logger read trace and span ids from it.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { outsideContext } from './context.js';
import { acquireTracing, VIGIL_TRACING_KEY, type TracingHandle } from './tracing-global.js';

/** Options of `createVigil({ traces })`. */
export interface TracesOptions {
  /**
   * The OTLP/HTTP traces URL. Default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else the Vigil base URL
   * of the `loki` option + `/v1/traces`, else `http://127.0.0.1:9466/v1/traces` (Vigil's default port).
   */
  readonly endpoint?: string;
  /** Share of new traces (no sampled parent decision) that are recorded, 0 to 1 (default 1). */
  readonly sampleRatio?: number;
  /** Follow the caller's sampling decision from `traceparent` (default true). */
  readonly parentBased?: boolean;
  /** Extra request headers of the export (`Authorization`, `X-Scope-OrgID`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Longest a finished span waits before it is exported (default 1000 ms). */
  readonly exportIntervalMs?: number;
  /** Spans per export request (default 512). */
  readonly maxExportBatchSize?: number;
  /** Finished spans held at most; more are dropped (default 2048). */
  readonly maxQueueSize?: number;
  /** Timeout of one export request (default 10000 ms). */
  readonly timeoutMs?: number;
  /** Trace outgoing node:http/https calls made within a span and send `traceparent` (default true). */
  readonly instrumentHttp?: boolean;
  /** Least time between two log lines about failed exports (default 60000 ms). */
  readonly errorLogIntervalMs?: number;
  /** Export to this exporter instead of OTLP (tests, or another backend). */
  readonly exporter?: SpanExporter;
}

/** What a span start returns: the span and the context in which it is the active one. */
export interface StartedSpan {
  readonly span: Span;
  readonly context: Context;
}

/** One Vigil instance's tracing. */
export interface VigilTracing extends TracingHandle {
  readonly tracer: Tracer;
  /** The resolved export URL. */
  readonly endpoint: string;
  /** Starts a span as a child of the active one (or of `parent`); run work in `.context` to nest under it. */
  start(name: string, opts?: { kind?: SpanKind; attributes?: Attributes }, parent?: Context): StartedSpan;
  /** Exports what is finished. */
  flush(): Promise<void>;
  /** Flushes and stops exporting. */
  shutdown(): Promise<void>;
}

/** Ends `span`, with error status, the message and the exception recorded when `err` is given. */
export function endSpan(span: Span, err?: unknown): void {
  if (err !== undefined) failSpan(span, err);
  span.end();
}

/** Marks `span` failed by `err`: the exception as an event and status error with its message. */
export function failSpan(span: Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  else span.recordException(String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The traces URL for the options: explicit, the OTel variable, beside the Loki URL, or local Vigil. */
export function tracesEndpoint(opts: TracesOptions, lokiUrl?: string): string {
  return otlpEndpoint(opts.endpoint, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '/v1/traces', lokiUrl);
}

/**
 * A logger of failed exports: one warning at most every `intervalMs`, with how many failed since the
 * last one, so an endpoint that is down or lacks the signal (a 404) does not flood the service's log.
 */
export function throttledFailureLog(logger: Logger, endpoint: string, intervalMs: number, message: string): (err: unknown) => void {
  let lastLog = -Infinity;
  let failedSince = 0;
  return (err) => {
    failedSince++;
    const now = performance.now();
    if (now - lastLog < intervalMs) return;
    lastLog = now;
    // The export timer may have been armed inside a request; the line belongs to none.
    outsideContext(() => context.with(ROOT_CONTEXT, () => logger.warn({ err, endpoint, failed_exports: failedSince }, message)));
    failedSince = 0;
  };
}

/** The OTLP/HTTP URL of a signal (`/v1/traces`, `/v1/metrics`): explicit, the OTel variable, beside the Loki URL, or local Vigil. */
export function otlpEndpoint(explicit: string | undefined, envVar: string, path: string, lokiUrl?: string): string {
  if (explicit !== undefined) return explicit;
  const env = process.env[envVar];
  if (env) return env;
  if (lokiUrl !== undefined) return lokiUrl.replace(/\/+$/, '').replace(/\/loki\/api\/v1\/push$/, '') + path;
  return `http://127.0.0.1:9466${path}`;
}

/**
 * Passes exports through, and says when they fail in one log line at most every `intervalMs`
 * (with how many failed since the last), so an endpoint without traces support (a 404) neither
 * crashes the service nor floods its log.
 */
export class ThrottledErrorExporter implements SpanExporter {
  /** Export requests that failed, since start. */
  failures = 0;
  private readonly logFailure: (err: unknown) => void;
  private readonly exported: Counter<'outcome'> | undefined;

  constructor(
    private readonly inner: SpanExporter,
    logger: Logger,
    endpoint: string,
    intervalMs: number,
    registry?: Registry,
  ) {
    this.logFailure = throttledFailureLog(logger, endpoint, intervalMs, 'trace export failed');
    this.exported = registry
      ? new Counter({
          name: 'vigil_trace_spans_exported_total',
          help: 'Spans sent to the traces endpoint, by outcome (success, failure).',
          labelNames: ['outcome'],
          registers: [registry],
        })
      : undefined;
  }

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.inner.export(spans, (result) => {
      this.exported?.inc({ outcome: result.code === 0 ? 'success' : 'failure' }, spans.length);
      if (result.code !== 0) {
        this.failures++;
        this.logFailure(result.error);
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** Resource attributes of a service. */
export interface ServiceIdentity {
  readonly service: string;
  readonly version?: string | undefined;
  readonly environment?: string | undefined;
}

/** Starts tracing for one Vigil instance. */
export function startTracing(opts: TracesOptions, id: ServiceIdentity, logger: Logger, lokiUrl?: string, registry?: Registry): VigilTracing {
  const ratio = opts.sampleRatio ?? 1;
  if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`traces.sampleRatio must be between 0 and 1, got ${ratio}`);
  const endpoint = tracesEndpoint(opts, lokiUrl);
  const attrs: Attributes = { 'service.name': id.service };
  if (id.version !== undefined) attrs['service.version'] = id.version;
  if (id.environment !== undefined) attrs['deployment.environment'] = id.environment;
  const root = new TraceIdRatioBasedSampler(ratio);
  const exporter = new ThrottledErrorExporter(
    opts.exporter ?? new OTLPTraceExporter({ url: endpoint, headers: { ...opts.headers }, timeoutMillis: opts.timeoutMs ?? 10_000 }),
    logger,
    endpoint,
    opts.errorLogIntervalMs ?? 60_000,
    registry,
  );
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes(attrs),
    sampler: opts.parentBased === false ? root : new ParentBasedSampler({ root }),
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        scheduledDelayMillis: opts.exportIntervalMs ?? 1000,
        maxExportBatchSize: opts.maxExportBatchSize ?? 512,
        maxQueueSize: opts.maxQueueSize ?? 2048,
        exportTimeoutMillis: opts.timeoutMs ?? 10_000,
      }),
    ],
  });
  const tracer = provider.getTracer('@vigil/sdk');
  let stopped: Promise<void> | undefined;
  const tracing: VigilTracing = {
    tracer,
    endpoint,
    start(name, o = {}, parent = context.active()) {
      const span = tracer.startSpan(name, o, parent);
      return { span, context: trace.setSpan(parent, span).setValue(VIGIL_TRACING_KEY, tracing) };
    },
    // A failed export is already logged (throttled) by the exporter; flushing only waits for it.
    flush: () => provider.forceFlush().catch(() => undefined),
    shutdown: () =>
      (stopped ??= (async () => {
        release();
        // As with flush: a failed last export is logged by the exporter, and must not fail shutdown.
        await provider.shutdown().catch(() => undefined);
      })()),
  };
  const release = acquireTracing(tracing, opts.instrumentHttp !== false);
  return tracing;
}

/** The `traceparent` (and `tracestate`) headers for a call made in the active context. */
export function injectHeaders(carrier: Record<string, string> = {}): Record<string, string> {
  propagation.inject(context.active(), carrier);
  return carrier;
}

export { SpanKind, SpanStatusCode };
