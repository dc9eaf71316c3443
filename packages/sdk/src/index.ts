/**
 * Vigil's instrumentation SDK for Node services: golden-signal HTTP metrics, function tracking,
 * business metrics, pool saturation and request-correlated structured logs, from one call:
 *
 * ```ts
 * const vigil = createVigil({ service: 'checkout' });
 * http.createServer(vigil.httpMiddleware(handler, { routes: ['/orders/:id'] }));
 * ```
 */
export const SDK_VERSION = '0.1.0';

export { createVigil, type Vigil, type VigilOptions, type GaugeCallbackOptions, type MetricsServerOptions } from './vigil.js';
export { currentContext, runWithContext, setUserId, outgoingTraceparent, parseTraceparent, contextFromHeaders, type RequestContext } from './context.js';
export { createLogger, DEFAULT_REDACT_KEYS, censorKeys, REDACTED, redactMessage, type RedactOption, type VigilLoggerOptions } from './logger.js';
export { LokiShipper, levelOf, type LokiOptions, type DropReason } from './shipper.js';
export { Tracker, classifyError, SEVERITIES, type Severity, type ErrorClass, type ErrorClassifier, type TrackOptions } from './track.js';
export { BusinessMetrics, type BusinessEventOptions, type BusinessEventDefinition, type Funnel } from './business.js';
export { PoolInstruments, type PoolStats, type PgLikePool, type GenericPool, type InstrumentedPool, type PoolOptions, type AcquireTimer } from './pool.js';
export {
  startTracing,
  tracesEndpoint,
  endSpan,
  failSpan,
  injectHeaders,
  ThrottledErrorExporter,
  type TracesOptions,
  type VigilTracing,
  type StartedSpan,
} from './tracing.js';
export { startMetricsExport, type OtlpMetricsOptions, type OtlpMetricsExport } from './otlp-metrics.js';
export { RegistryProducer, unitOfName } from './otlp-producer.js';
export { CardinalityGuard, LabelSetCache } from './cardinality.js';
export { HttpMetrics, OTEL_DURATION_BUCKETS, SIZE_BUCKETS, type HttpMetricsOptions } from './http/metrics.js';
export { UNMATCHED_ROUTE, compileRoutes, type RouteMatcher } from './http/routes.js';
export type {
  MiddlewareOptions,
  NodeMiddlewareOptions,
  ExpressMiddleware,
  FastifyPlugin,
  FastifyInstanceLike,
  FastifyRequestLike,
  FastifyReplyLike,
  FastifyHook,
} from './http/middleware.js';
export { renderMetrics, renderOpenMetrics, metricsListener, PROMETHEUS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE, type Exposition } from './exposition.js';
export { captureLogs, listen, seriesLines, seriesValue, type LogCapture } from './testing.js';
