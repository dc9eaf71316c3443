/** Self-metrics of `vigil agent`'s storage, under Prometheus' agent names where it has one. */
import type { SelfRegistry } from '../../core/selfmon/registry.js';
import type { AgentStorage } from '../../metrics/tsdb/agent.js';
import type { RemoteWriteReceiver } from '../../metrics/remotewrite/receiver.js';
import { registerReceiverMetrics } from './storage.js';

export function registerAgentMetrics(reg: SelfRegistry, storage: AgentStorage, rw: RemoteWriteReceiver): void {
  reg.register('prometheus_agent_active_series', 'gauge', 'Number of active series being tracked by the WAL storage.', () => storage.numSeries);
  reg.register('prometheus_agent_samples_appended_total', 'counter', 'Total number of samples appended to the storage.', () => storage.stats().samplesAppended);
  reg.register(
    'prometheus_agent_out_of_order_samples_total',
    'counter',
    'Total number of out of order samples ingestion failed attempts.',
    () => storage.stats().samplesOutOfOrder,
  );
  reg.register(
    'prometheus_agent_series_removed_total',
    'counter',
    'Series that left memory after no sample reached them for a while.',
    () => storage.stats().seriesRemoved,
  );
  reg.register(
    'prometheus_agent_truncations_total',
    'counter',
    'WAL checkpoints that condensed segments every remote_write queue had sent.',
    () => storage.stats().truncations,
  );
  reg.register('prometheus_agent_truncate_duration_seconds', 'gauge', 'Duration of the last WAL truncation.', () => storage.stats().lastTruncateSeconds);
  reg.register('vigil_tsdb_wal_written_bytes_total', 'counter', 'Bytes written to the WAL since start.', () => storage.stats().walBytes);
  registerReceiverMetrics(reg, rw);
}
