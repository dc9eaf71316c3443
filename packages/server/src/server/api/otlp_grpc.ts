/**
 * OTLP over gRPC on a listener of its own (4317 by convention), for collectors and the many SDKs
 * that default to it: `opentelemetry.proto.collector.trace.v1.TraceService/Export` and
 * `opentelemetry.proto.collector.logs.v1.LogsService/Export`. The request messages are the ones
 * OTLP/HTTP carries, so the services are declared by hand with identity (de)serializers and the
 * bodies go through the same decoders; traces share the HTTP path's ingestor (one rate limit, one
 * set of counters). grpc-js inflates `grpc-encoding: gzip` itself and refuses a message above the
 * size limit with RESOURCE_EXHAUSTED.
 *
 * Answers as the OTLP specification has them: OK with partial_success when some items were
 * refused; INVALID_ARGUMENT for a malformed request (not retried); RESOURCE_EXHAUSTED with a
 * google.rpc.RetryInfo in `grpc-status-details-bin` over the rate (retried after the delay);
 * UNAVAILABLE when the store cannot write now; RESOURCE_EXHAUSTED without RetryInfo on a full disk.
 */
import * as grpc from '@grpc/grpc-js';
import { StorageError } from '../../core/errors.js';
import type { Logger } from '../../core/util/log.js';
import { DEFAULT_LOG_LIMITS, LimitError, RateLimiter, type LogLimits } from '../../logs/ingest/limits.js';
import { decodeOtlpLogsProto } from '../../logs/ingest/otlp.js';
import { encodeExportLogsServiceResponse } from '../../logs/ingest/otlp_proto.js';
import type { LogAppendable } from '../../logs/storage/interface.js';
import { TraceIngestError } from '../../traces/ingest/limits.js';
import { encodeExportTraceServiceResponse } from '../../traces/ingest/otlp_proto.js';
import type { TraceIngestor } from './trace_ingest.js';
import { OtlpMetricsError } from '../../metrics/otlp/errors.js';
import type { OtlpMetricsIngestor } from '../../metrics/otlp/ingest.js';
import { encodePartialSuccess } from '../../core/otlp/protobuf.js';

/** The default largest message (after decompression), as the OTLP collector's default receiver has it. */
export const DEFAULT_GRPC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export interface OtlpGrpcOptions {
  /** HOST:PORT; port 0 picks a free one. */
  readonly address: string;
  readonly traces: TraceIngestor;
  readonly logs: LogAppendable;
  /** OTLP metrics, through the HTTP path's ingestor (one rate limit with remote_write). */
  readonly metrics?: OtlpMetricsIngestor;
  readonly logLimits?: LogLimits;
  readonly maxMessageBytes?: number;
  readonly now?: () => number;
  readonly logger: Logger;
  /**
   * Checks a call's `authorization` metadata as the HTTP API checks the header, for the HTTP route
   * the service mirrors: a refusal, or undefined to go on. Unset: no authentication (none configured).
   */
  readonly authorize?: (authorization: string | undefined, route: GrpcRoute) => Promise<'unauthenticated' | 'forbidden' | undefined>;
}

type GrpcRoute = '/v1/traces' | '/v1/logs' | '/v1/metrics';

/** Counters for self-metrics. */
export interface OtlpGrpcStats {
  traceRequests: number;
  logRequests: number;
  metricRequests: number;
  logRecords: number;
  /** Calls refused as a whole, by gRPC status name. */
  refused: Record<string, number>;
}

const identity = {
  requestSerialize: (b: Buffer): Buffer => b,
  requestDeserialize: (b: Buffer): Buffer => b,
  responseSerialize: (b: Buffer): Buffer => b,
  responseDeserialize: (b: Buffer): Buffer => b,
};

function exportService(service: string): grpc.ServiceDefinition {
  return {
    Export: { path: `/${service}/Export`, requestStream: false, responseStream: false, originalName: 'export', ...identity },
  } as grpc.ServiceDefinition;
}

/** A protobuf length-delimited field. */
function field(no: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  len.push(n);
  return Buffer.concat([Buffer.from([(no << 3) | 2, ...len]), body]);
}

function varintField(no: number, v: number): Buffer {
  const out = [no << 3];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** google.rpc.Status{code, message, details: [Any(google.rpc.RetryInfo{retry_delay: {seconds}})]}. */
export function statusWithRetryInfo(code: number, message: string, retrySec: number): Buffer {
  const retryInfo = field(1, varintField(1, Math.max(1, Math.ceil(retrySec))));
  const any = Buffer.concat([field(1, Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), field(2, retryInfo)]);
  return Buffer.concat([varintField(1, code), field(2, Buffer.from(message)), field(3, any)]);
}

interface Refusal {
  code: grpc.status;
  details: string;
  retrySec?: number;
}

/** The gRPC status for an HTTP-style status the decoders and limits use. */
function refusalOf(status: number, message: string, retrySec: number): Refusal {
  if (status === 429) return { code: grpc.status.RESOURCE_EXHAUSTED, details: message, retrySec: retrySec || 1 };
  if (status === 413) return { code: grpc.status.RESOURCE_EXHAUSTED, details: message };
  return { code: grpc.status.INVALID_ARGUMENT, details: message };
}

function storageRefusal(err: StorageError): Refusal {
  return err.code === 'disk_full' ? { code: grpc.status.RESOURCE_EXHAUSTED, details: err.message } : { code: grpc.status.UNAVAILABLE, details: err.message };
}

/** The OTLP gRPC listener. */
export class OtlpGrpcServer {
  readonly stats: OtlpGrpcStats = { traceRequests: 0, logRequests: 0, metricRequests: 0, logRecords: 0, refused: {} };
  private readonly server: grpc.Server;
  private readonly logRate: RateLimiter;
  private readonly logLimits: LogLimits;
  private port = 0;

  constructor(private readonly opts: OtlpGrpcOptions) {
    const max = opts.maxMessageBytes ?? DEFAULT_GRPC_MAX_MESSAGE_BYTES;
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': 1024 * 1024 });
    this.logLimits = opts.logLimits ?? DEFAULT_LOG_LIMITS;
    // Its own bucket: a log byte rate per tenant like the HTTP path's, so gRPC pushes are bounded too.
    this.logRate = new RateLimiter(this.logLimits, opts.now);
    this.server.addService(exportService('opentelemetry.proto.collector.trace.v1.TraceService'), {
      Export: this.unary('/v1/traces', (b) => this.exportTraces(b)),
    });
    this.server.addService(exportService('opentelemetry.proto.collector.logs.v1.LogsService'), {
      Export: this.unary('/v1/logs', (b, md) => this.exportLogs(b, md)),
    });
    const metrics = opts.metrics;
    if (metrics)
      this.server.addService(exportService('opentelemetry.proto.collector.metrics.v1.MetricsService'), {
        Export: this.unary('/v1/metrics', (b) => this.exportMetrics(metrics, b)),
      });
  }

  /** Binds the listener; resolves to the bound HOST:PORT. */
  async start(): Promise<string> {
    const { address } = this.opts;
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    const host = address.slice(0, address.lastIndexOf(':'));
    return `${host}:${this.port}`;
  }

  /** Stops taking calls and ends the ones in flight after a short grace. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, 2000);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private unary(route: GrpcRoute, fn: (body: Buffer, md: grpc.Metadata) => Buffer | Refusal): grpc.handleUnaryCall<Buffer, Buffer> {
    const answer = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void => {
      let out: Buffer | Refusal;
      try {
        out = fn(call.request, call.metadata);
      } catch (err) {
        this.opts.logger.error('OTLP gRPC export failed', { err });
        out = { code: grpc.status.INTERNAL, details: 'internal error' };
      }
      if (Buffer.isBuffer(out)) return callback(null, out);
      this.refuse(out, callback);
    };
    const authorize = this.opts.authorize;
    if (!authorize) return answer;
    return (call, callback) => {
      const header = call.metadata.get('authorization')[0];
      authorize(typeof header === 'string' ? header : undefined, route).then(
        (denied) => {
          if (denied === undefined) return answer(call, callback);
          const code = denied === 'unauthenticated' ? grpc.status.UNAUTHENTICATED : grpc.status.PERMISSION_DENIED;
          this.refuse(
            { code, details: denied === 'unauthenticated' ? 'missing or invalid credentials' : `credentials lack the write role for ${route}` },
            callback,
          );
        },
        (err: unknown) => {
          this.opts.logger.error('OTLP gRPC authentication failed', { err });
          this.refuse({ code: grpc.status.INTERNAL, details: 'internal error' }, callback);
        },
      );
    };
  }

  private refuse(out: Refusal, callback: grpc.sendUnaryData<Buffer>): void {
    const name = grpc.status[out.code];
    this.stats.refused[name] = (this.stats.refused[name] ?? 0) + 1;
    const metadata = new grpc.Metadata();
    if (out.retrySec !== undefined) metadata.set('grpc-status-details-bin', statusWithRetryInfo(out.code, out.details, out.retrySec));
    callback({ code: out.code, details: out.details, metadata });
  }

  private exportTraces(body: Buffer): Buffer | Refusal {
    this.stats.traceRequests++;
    const t = this.opts.traces;
    t.stats.requests++;
    t.stats.bytes += body.length;
    try {
      const { rejected, message } = t.ingest(body, 'protobuf');
      return encodeExportTraceServiceResponse(rejected > 0 ? { rejectedSpans: rejected, errorMessage: message } : undefined);
    } catch (err) {
      if (err instanceof TraceIngestError) {
        t.refuse(err.status === 429 ? 'rate_limited' : err.status === 413 ? 'too_large' : 'invalid');
        return refusalOf(err.status, err.message, err.retryAfterSec);
      }
      if (err instanceof StorageError && (err.code === 'disk_full' || err.code === 'closed')) {
        t.refuse(err.code === 'disk_full' ? 'disk_full' : 'unavailable');
        return storageRefusal(err);
      }
      throw err;
    }
  }

  private exportMetrics(m: OtlpMetricsIngestor, body: Buffer): Buffer | Refusal {
    this.stats.metricRequests++;
    m.stats.requests++;
    try {
      const { rejected, message } = m.ingest(body, 'protobuf');
      return encodePartialSuccess(rejected > 0 || message ? { rejected, errorMessage: message } : undefined);
    } catch (err) {
      if (err instanceof OtlpMetricsError) {
        m.stats.refused[err.status === 429 ? 'rate_limited' : 'invalid'] = (m.stats.refused[err.status === 429 ? 'rate_limited' : 'invalid'] ?? 0) + 1;
        return refusalOf(err.status, err.message, err.retryAfterSec);
      }
      if (err instanceof StorageError && (err.code === 'disk_full' || err.code === 'closed' || err.code === 'overloaded')) return storageRefusal(err);
      throw err;
    }
  }

  private exportLogs(body: Buffer, md: grpc.Metadata): Buffer | Refusal {
    this.stats.logRequests++;
    try {
      const streams = decodeOtlpLogsProto(body, this.logLimits, this.opts.now);
      let bytes = 0;
      for (const s of streams) for (const e of s.entries) bytes += e.line.length;
      const tenant = md.get('x-scope-orgid')[0];
      this.logRate.take(typeof tenant === 'string' && tenant ? tenant : 'fake', bytes);
      const res = this.opts.logs.push(streams);
      this.stats.logRecords += res.accepted;
      if (res.rejected.length === 0) return encodeExportLogsServiceResponse();
      const reasons = [...new Set(res.rejected.map((r) => r.reason))].slice(0, 10);
      return encodeExportLogsServiceResponse({ rejectedLogRecords: res.rejected.length, errorMessage: reasons.join('; ') });
    } catch (err) {
      if (err instanceof LimitError) return refusalOf(err.status, err.message, err.retryAfterSec);
      if (err instanceof StorageError && (err.code === 'disk_full' || err.code === 'closed')) return storageRefusal(err);
      throw err;
    }
  }
}
