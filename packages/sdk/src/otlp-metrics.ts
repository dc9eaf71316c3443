/**
 * Pushing the metrics over OTLP/HTTP (protobuf) on OpenTelemetry JS's metrics SDK, for services
 * nobody scrapes (jobs, functions, hosts behind NAT). The prom-client registry stays the one set of
 * instruments: a periodic reader exports it through {@link RegistryProducer}, so the series that
 * arrive are named as the scraped ones are. Latency histograms can instead go out as exponential
 * (native) histograms: every observation of the SDK's `_seconds` histograms is then also recorded
 * in an OpenTelemetry histogram with exponential aggregation, and the classic one is not sent.
 */
import type { Attributes } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  AggregationType,
  InstrumentType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { exemplarHistograms } from './exemplars.js';
import { RegistryProducer, unitOfName } from './otlp-producer.js';
import { otlpEndpoint, throttledFailureLog, type ServiceIdentity } from './tracing.js';

/** Options of `createVigil({ otlpMetrics })`. */
export interface OtlpMetricsOptions {
  /**
   * The OTLP/HTTP metrics URL. Default: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, else the Vigil base URL
   * of the `loki` option + `/v1/metrics`, else `http://127.0.0.1:9466/v1/metrics`.
   */
  readonly endpoint?: string;
  /** Time between two exports (default 15000 ms, a usual scrape interval). */
  readonly exportIntervalMs?: number;
  /** `cumulative` (default: totals since start, as a scrape sees them) or `delta` (the change since the last export). */
  readonly temporality?: 'cumulative' | 'delta';
  /**
   * How the latency histograms (`http_server_request_duration_seconds`, `function_duration_seconds`,
   * `database_connection_acquire_duration_seconds`) go out: `explicit` (default) with their buckets,
   * or `exponential`, which the receiver stores as native histograms (finer, no buckets to choose).
   */
  readonly latencyHistograms?: 'explicit' | 'exponential';
  /** Largest number of buckets of an exponential histogram (default 160, as OpenTelemetry's). */
  readonly maxExponentialBuckets?: number;
  /** Extra request headers of the export (`Authorization`, `X-Scope-OrgID`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Timeout of one export request (default 10000 ms). */
  readonly timeoutMs?: number;
  /** Least time between two log lines about failed exports (default 60000 ms). */
  readonly errorLogIntervalMs?: number;
  /** Export to this exporter instead of OTLP/HTTP (tests, or another backend). */
  readonly exporter?: PushMetricExporter;
}

/** The metrics export of one Vigil instance. */
export interface OtlpMetricsExport {
  /** The resolved export URL. */
  readonly endpoint: string;
  /** Export requests that failed, since start. */
  readonly failures: () => number;
  /** Collects and exports now. */
  flush(): Promise<void>;
  /** Exports a last time and stops. */
  shutdown(): Promise<void>;
}

/** Where the export goes, and the labels prom-client adds to every series (`service`, `environment`). */
export interface ExportContext {
  readonly id: ServiceIdentity;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly defaultLabels: Readonly<Record<string, string>>;
  readonly lokiUrl?: string | undefined;
}

/** Latency histograms: the SDK's histograms whose name says seconds. */
function latencyHistogramNames(registry: Registry): string[] {
  return [...exemplarHistograms(registry).keys()].filter((n) => n.endsWith('_seconds'));
}

/** Starts exporting `ctx.registry` over OTLP. */
export function startMetricsExport(opts: OtlpMetricsOptions, ctx: ExportContext): OtlpMetricsExport {
  const interval = opts.exportIntervalMs ?? 15_000;
  if (!(interval > 0)) throw new RangeError(`otlpMetrics.exportIntervalMs must be positive, got ${interval}`);
  const temporality = opts.temporality === 'delta' ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
  if (opts.temporality !== undefined && opts.temporality !== 'delta' && opts.temporality !== 'cumulative')
    throw new RangeError(`otlpMetrics.temporality must be 'cumulative' or 'delta', got ${String(opts.temporality)}`);
  const endpoint = otlpEndpoint(opts.endpoint, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', '/v1/metrics', ctx.lokiUrl);
  const timeout = opts.timeoutMs ?? 10_000;
  const inner =
    opts.exporter ?? new OTLPMetricExporter({ url: endpoint, headers: { ...opts.headers }, timeoutMillis: timeout, temporalityPreference: temporality });
  let failures = 0;
  const logFailure = throttledFailureLog(ctx.logger, endpoint, opts.errorLogIntervalMs ?? 60_000, 'metrics export failed');
  const exporter: PushMetricExporter = {
    export(metrics: ResourceMetrics, done) {
      inner.export(metrics, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) {
          failures++;
          logFailure(result.error);
        }
        done(result);
      });
    },
    forceFlush: () => inner.forceFlush(),
    shutdown: () => inner.shutdown(),
    selectAggregationTemporality: () => temporality,
  };

  const exponential = opts.latencyHistograms === 'exponential' ? latencyHistogramNames(ctx.registry) : [];
  if (opts.latencyHistograms !== undefined && opts.latencyHistograms !== 'explicit' && opts.latencyHistograms !== 'exponential')
    throw new RangeError(`otlpMetrics.latencyHistograms must be 'explicit' or 'exponential', got ${String(opts.latencyHistograms)}`);
  const reader = new PeriodicExportingMetricReader({
    exporter,
    exportIntervalMillis: interval,
    exportTimeoutMillis: Math.min(timeout, interval),
    metricProducers: [new RegistryProducer(ctx.registry, temporality, new Set(exponential))],
  });
  const attrs: Attributes = { 'service.name': ctx.id.service };
  if (ctx.id.version !== undefined) attrs['service.version'] = ctx.id.version;
  if (ctx.id.environment !== undefined) attrs['deployment.environment'] = ctx.id.environment;
  const provider = new MeterProvider({
    resource: resourceFromAttributes(attrs),
    readers: [reader],
    views: [
      {
        instrumentType: InstrumentType.HISTOGRAM,
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: opts.maxExponentialBuckets ?? 160 } },
      },
    ],
  });
  const meter = provider.getMeter('@vigil/sdk');
  for (const name of exponential) {
    const h = exemplarHistograms(ctx.registry).get(name)!;
    const help = (ctx.registry.getSingleMetric(name) as { help?: string } | undefined)?.help ?? '';
    const instrument = meter.createHistogram(name, { unit: unitOfName(name), description: help });
    const labelNames = h.labelNames;
    h.onObserve((values, v) => {
      // As prom-client does: the default labels, unless the series has a label of that name.
      const a: Attributes = { ...ctx.defaultLabels };
      for (let i = 0; i < labelNames.length; i++) a[labelNames[i]!] = values[i];
      instrument.record(v, a);
    });
  }

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    failures: () => failures,
    // A failed export is already logged (throttled); flushing only waits for it.
    flush: () => provider.forceFlush().catch(() => undefined),
    shutdown: () => (stopped ??= provider.shutdown().catch(() => undefined)),
  };
}
