/**
 * The parts of sending that are not the sample queue itself: metric metadata (sent whole every
 * `metadata_config.send_interval`, as Prometheus' metadata watcher does); the retry rules are
 * core/httpclient/retry.ts.
 */
import type { HttpClient } from '../../../core/httpclient/client.js';
import { snappyEncode } from '../../../core/util/snappy.js';
import type { MetricMetadata } from '../../metadata.js';
import { WriteRequestEncoder } from '../proto.js';
import type { RemoteWriteConfig } from './config.js';
import { abortableSleep, Backoff, sendVerdict } from '../../../core/httpclient/retry.js';

const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown']);

/** The metadata counters of a queue. */
export interface MetadataStats {
  metadataTotal: number;
  metadataFailed: number;
  metadataRetried: number;
}

/**
 * Sends `all` in requests of `metadata_config.max_samples_per_send` entries; each is tried up to
 * three times with backoff (the next interval sends everything again anyway).
 */
export async function sendMetadata(
  client: HttpClient,
  config: RemoteWriteConfig,
  all: ReadonlyArray<[string, MetricMetadata]>,
  stats: MetadataStats,
  signal: AbortSignal,
): Promise<void> {
  const per = config.metadata.maxSamplesPerSend;
  for (let i = 0; i < all.length; i += per) {
    const enc = new WriteRequestEncoder();
    const part = all.slice(i, i + per);
    for (const [family, md] of part) enc.addMetadata(family, (METRIC_TYPES.has(md.type) ? md.type : 'unknown') as 'unknown', md.help, md.unit);
    const body = snappyEncode(enc.finish());
    const backoff = new Backoff(config.queue.minBackoffMs, config.queue.maxBackoffMs);
    for (let attempt = 0; attempt < 3 && !signal.aborted; attempt++) {
      stats.metadataTotal += part.length;
      let status = 0;
      try {
        status = (
          await client.request('POST', config.url, {
            headers: {
              ...config.headers,
              'content-type': 'application/x-protobuf',
              'content-encoding': 'snappy',
              'x-prometheus-remote-write-version': '0.1.0',
            },
            body,
            timeoutMs: config.remoteTimeoutMs,
            signal,
          })
        ).status;
      } catch {
        status = 0;
      }
      const verdict = sendVerdict(status, true);
      if (verdict === 'sent') break;
      if (verdict === 'drop') {
        stats.metadataFailed += part.length;
        break;
      }
      stats.metadataRetried += part.length;
      if (attempt === 2) stats.metadataFailed += part.length;
      await abortableSleep(backoff.next(), signal);
    }
  }
}
