/** Self-monitoring of the trace store, trace ingest, the trace-by-id API and the OTLP/gRPC listener. */
import type { SelfRegistry } from '../../core/selfmon/registry.js';
import type { TraceStore } from '../../traces/store/store.js';
import type { TempoApiStats } from '../api/tempo.js';
import type { TraceIngestStats } from '../api/trace_ingest.js';
import type { OtlpGrpcStats } from '../api/otlp_grpc.js';

/** Registers the trace metrics. */
export function registerTraceMetrics(reg: SelfRegistry, store: TraceStore, ingest: TraceIngestStats, api: TempoApiStats): void {
  reg.register('vigil_traces_head_spans', 'gauge', 'Spans in the trace head (in memory and the WAL, not yet in a block).', () => store.stats().headSpans);
  reg.register('vigil_traces_blocks', 'gauge', 'Trace blocks on disk.', () => store.stats().blocks);
  reg.register('vigil_traces_block_bytes', 'gauge', 'Bytes of trace blocks on disk.', () => store.stats().blockBytes);
  reg.register('vigil_traces_block_spans', 'gauge', 'Spans in trace blocks on disk.', () => store.stats().blockSpans);
  reg.register('vigil_traces_pages_read_total', 'counter', 'Trace block pages read and decoded to answer queries.', () => store.stats().pagesRead);
  reg.register('vigil_traces_spans_received_total', 'counter', 'Spans accepted by OTLP trace ingest.', () => ingest.spans);
  reg.register('vigil_traces_spans_rejected_total', 'counter', 'Spans refused one by one (reported in partial_success).', () => ingest.rejectedSpans);
  reg.register('vigil_traces_push_requests_total', 'counter', 'OTLP trace export requests received.', () => ingest.requests);
  reg.register('vigil_traces_refused_total', 'counter', 'OTLP trace export requests refused as a whole, by reason.', () =>
    Object.entries(ingest.refused).map(([reason, value]) => ({ labels: { reason }, value })),
  );
  reg.register('vigil_traces_lookups_total', 'counter', 'Trace-by-id requests (Tempo API).', () => api.traceLookups);
}

/** Registers the OTLP/gRPC listener's metrics (its trace spans are counted with OTLP/HTTP's above). */
export function registerOtlpGrpcMetrics(reg: SelfRegistry, stats: OtlpGrpcStats): void {
  reg.register('vigil_otlp_grpc_requests_total', 'counter', 'OTLP/gRPC export calls received, by signal.', () => [
    { labels: { signal: 'traces' }, value: stats.traceRequests },
    { labels: { signal: 'logs' }, value: stats.logRequests },
    { labels: { signal: 'metrics' }, value: stats.metricRequests },
  ]);
  reg.register('vigil_otlp_grpc_log_records_received_total', 'counter', 'Log records accepted over OTLP/gRPC.', () => stats.logRecords);
  reg.register('vigil_otlp_grpc_refused_total', 'counter', 'OTLP/gRPC export calls refused as a whole, by gRPC status.', () =>
    Object.entries(stats.refused).map(([code, value]) => ({ labels: { code }, value })),
  );
}
