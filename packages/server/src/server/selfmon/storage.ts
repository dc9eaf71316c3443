/** Self-monitoring of storage and ingest: head, WAL, blocks, compactions and remote_write. */
import type { RemoteWriteReceiver } from '../../metrics/remotewrite/receiver.js';
import type { DB } from '../../metrics/tsdb/db.js';
import type { SelfRegistry } from '../../core/selfmon/registry.js';
import type { DecodedChunkCache } from '../../metrics/tsdb/decoded_chunks.js';

/** Registers the TSDB and remote_write metrics. */
export function registerStorageMetrics(reg: SelfRegistry, db: DB, rw: RemoteWriteReceiver): void {
  reg.register('vigil_tsdb_head_series', 'gauge', 'Series in the head.', () => db.head.numSeries);
  reg.register('vigil_tsdb_head_chunks', 'gauge', 'Chunks in the head.', () => db.stats().head.chunks);
  reg.register('vigil_tsdb_head_samples_appended_total', 'counter', 'Samples appended to the head.', () => db.head.samplesAppended);
  reg.register(
    'vigil_tsdb_out_of_order_samples_total',
    'counter',
    'Samples dropped at commit: out of order outside the window, or a late duplicate with another value.',
    () => db.head.samplesOutOfOrder,
  );
  reg.register(
    'vigil_tsdb_head_out_of_order_samples_appended_total',
    'counter',
    'Samples taken into the head within the out-of-order window.',
    () => db.head.samplesOutOfOrderAppended,
  );
  reg.register('vigil_tsdb_blocks_loaded', 'gauge', 'Blocks on disk.', () => db.listBlocks().length);
  reg.register('vigil_tsdb_storage_blocks_bytes', 'gauge', 'Bytes of all blocks.', () => db.stats().blockBytes);
  reg.register('vigil_tsdb_wal_written_bytes_total', 'counter', 'Bytes written to the WAL since start.', () => db.stats().walBytes);
  reg.register(
    'vigil_tsdb_corrupt_chunks_total',
    'counter',
    'Block chunks found damaged (checksum or decoding) by reads since start.',
    () => db.stats().corruptChunks,
  );
  reg.register('vigil_tsdb_quarantined_blocks_total', 'counter', 'Blocks moved aside at start for failing their checks.', () => db.stats().quarantinedBlocks);
  reg.register('vigil_tsdb_compactions_total', 'counter', 'Head and block compactions since start.', () => db.stats().compactions);
  registerDecodedChunkMetrics(reg, db.decodedChunks);
  registerReceiverMetrics(reg, rw);
}

/** What the remote_write receiver has taken and refused (the server and the agent both have one). */
export function registerReceiverMetrics(reg: SelfRegistry, rw: RemoteWriteReceiver): void {
  reg.register('vigil_remote_write_requests_total', 'counter', 'remote_write requests received.', () => rw.stats.requests);
  reg.register('vigil_remote_write_samples_total', 'counter', 'Samples accepted through remote_write.', () => rw.stats.samples);
  reg.register('vigil_remote_write_histograms_total', 'counter', 'Native histogram samples accepted through remote_write.', () => rw.stats.histograms);
  reg.register('vigil_remote_write_rejected_requests_total', 'counter', 'remote_write requests refused.', () => rw.stats.rejected);
}

/** The decoded-chunk cache (metrics/tsdb/decoded_chunks.ts): its size and how often it serves a read. */
function registerDecodedChunkMetrics(reg: SelfRegistry, cache: DecodedChunkCache): void {
  const name = 'vigil_tsdb_decoded_chunk_cache_';
  reg.register(`${name}bytes`, 'gauge', 'Bytes the decoded-chunk cache holds (by its own count).', () => cache.bytes);
  reg.register(`${name}max_bytes`, 'gauge', 'Byte budget of the decoded-chunk cache (storage.decoded_chunk_cache_size).', () => cache.maxBytes);
  reg.register(`${name}entries`, 'gauge', 'Chunks held decoded.', () => cache.entries);
  reg.register(`${name}hits_total`, 'counter', 'Chunk reads served from the decoded-chunk cache.', () => cache.hits);
  reg.register(`${name}misses_total`, 'counter', 'Chunk reads that decoded the chunk into the cache.', () => cache.misses);
  reg.register(`${name}evictions_total`, 'counter', 'Entries dropped to stay within the byte budget.', () => cache.evictions);
}
