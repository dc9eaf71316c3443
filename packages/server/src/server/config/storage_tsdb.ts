/**
 * The TSDB's out-of-order window: `storage.out_of_order_time_window` in vigil.yml, or Prometheus'
 * `storage.tsdb.out_of_order_time_window` as it stands in a pasted prometheus.yml.
 */
import { parseDuration } from '../../core/time/duration.js';
import { DEFAULT_OUT_OF_ORDER_WINDOW_MS } from '../../metrics/tsdb/ooo.js';
import type { StorageChecker } from './storage.js';

/** The keys this adds to `storage:` (`decoded_chunk_cache_size` is read beside retention_size, as a byte size). */
export const STORAGE_TSDB_KEYS = ['out_of_order_time_window', 'tsdb', 'decoded_chunk_cache_size'] as const;

/** The window in ms (0: in order only); the default when neither spelling is given. */
export function parseOutOfOrderWindow(c: StorageChecker, st: Record<string, unknown>): number {
  const tsdb = c.keys(['storage', 'tsdb'], st['tsdb'], ['out_of_order_time_window']);
  const own = st['out_of_order_time_window'];
  const prom = tsdb['out_of_order_time_window'];
  if (own !== undefined && prom !== undefined)
    c.fail(
      ['storage', 'tsdb', 'out_of_order_time_window'],
      'the window is set twice: keep storage.out_of_order_time_window or storage.tsdb.out_of_order_time_window',
    );
  if (own !== undefined) return c.parsed(['storage', 'out_of_order_time_window'], own, parseDuration);
  if (prom !== undefined) return c.parsed(['storage', 'tsdb', 'out_of_order_time_window'], prom, parseDuration);
  return DEFAULT_OUT_OF_ORDER_WINDOW_MS;
}
