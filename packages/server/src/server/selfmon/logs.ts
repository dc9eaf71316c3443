/** Self-monitoring of the log store and log ingest. */
import type { LogIngestStats } from '../api/log_ingest.js';
import type { LogStore } from '../../logs/store/index.js';
import type { SelfRegistry } from '../../core/selfmon/registry.js';

/** Registers the log store and log ingest metrics. */
export function registerLogMetrics(reg: SelfRegistry, store: LogStore, ingest: LogIngestStats): void {
  reg.register('vigil_logs_streams', 'gauge', 'Log streams in the store.', () => store.stats().streams);
  reg.register('vigil_logs_chunks', 'gauge', 'Log chunks in the store.', () => store.stats().chunks);
  reg.register('vigil_logs_disk_bytes', 'gauge', 'Bytes of the log store on disk.', () => store.stats().diskBytes);
  reg.register('vigil_logs_lines_received_total', 'counter', 'Log lines accepted.', () => store.counters.linesIn);
  reg.register('vigil_logs_bytes_received_total', 'counter', 'Log line bytes accepted.', () => store.counters.bytesIn);
  reg.register(
    'vigil_logs_chunks_skipped_by_bloom_total',
    'counter',
    'Chunks a search skipped thanks to their token bloom filter.',
    () => store.counters.chunksSkippedByBloom,
  );
  reg.register('vigil_logs_chunks_read_total', 'counter', 'Chunks decompressed to answer queries.', () => store.counters.chunksRead);
  reg.register('vigil_logs_push_requests_total', 'counter', 'Log push requests received.', () => ingest.requests);
  reg.register('vigil_logs_refused_total', 'counter', 'Log pushes refused, by reason.', () =>
    Object.entries(ingest.refused).map(([reason, value]) => ({ labels: { reason }, value })),
  );
}
