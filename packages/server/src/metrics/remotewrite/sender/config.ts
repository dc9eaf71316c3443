/**
 * One `remote_write:` entry of vigil.yml, with Prometheus' field meanings and defaults
 * (`config.RemoteWriteConfig`, `QueueConfig`, `MetadataConfig` of prometheus.yml), validated by
 * `server/config/remote_write.ts`.
 */
import type { HttpClientConfig } from '../../../core/httpclient/config.js';
import type { RelabelConfig } from '../../relabel/relabel.js';

/** `queue_config`: how samples are batched, sent in parallel and retried. */
export interface QueueConfig {
  /** Samples buffered per shard before the WAL reader waits. */
  capacity: number;
  maxShards: number;
  minShards: number;
  maxSamplesPerSend: number;
  /** Longest a sample waits in a shard before a partial batch is sent, ms. */
  batchSendDeadlineMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Retry on 429 Too Many Requests (otherwise such a batch is dropped like a 4xx). */
  retryOnHttp429: boolean;
  /** Samples older than this when sent (or retried) are dropped, ms (0: never). */
  sampleAgeLimitMs: number;
}

/** `metadata_config`: metric metadata sent alongside samples. */
export interface MetadataConfig {
  send: boolean;
  sendIntervalMs: number;
  maxSamplesPerSend: number;
}

/** The validated `remote_write:` entry. */
export interface RemoteWriteConfig {
  url: string;
  /** `name`, or a hash of the entry (as Prometheus): names the queue in metrics, logs and on disk. */
  name: string;
  remoteTimeoutMs: number;
  headers: Record<string, string>;
  writeRelabelConfigs: RelabelConfig[];
  queue: QueueConfig;
  metadata: MetadataConfig;
  sendExemplars: boolean;
  sendNativeHistograms: boolean;
  /** remote_write 1.0's `prometheus.WriteRequest` (the default) or 2.0's `io.prometheus.write.v2.Request`. */
  protobufMessage: 'prometheus.WriteRequest' | 'io.prometheus.write.v2.Request';
  /**
   * Vigil's own bound on what the sender may hold back from WAL checkpoints while it is behind
   * (receiver down): past it the oldest held segments are let go and their samples are not sent.
   */
  walRetentionBytes: number;
  httpClient: HttpClientConfig;
}

/** Prometheus' queue defaults (v2.42 onwards). */
export const DEFAULT_QUEUE_CONFIG: Readonly<QueueConfig> = Object.freeze({
  capacity: 10_000,
  maxShards: 50,
  minShards: 1,
  maxSamplesPerSend: 2_000,
  batchSendDeadlineMs: 5_000,
  minBackoffMs: 30,
  maxBackoffMs: 5_000,
  retryOnHttp429: true,
  sampleAgeLimitMs: 0,
});

/** Prometheus' metadata defaults. */
export const DEFAULT_METADATA_CONFIG: Readonly<MetadataConfig> = Object.freeze({ send: true, sendIntervalMs: 60_000, maxSamplesPerSend: 500 });

/** Prometheus' `remote_timeout`. */
export const DEFAULT_REMOTE_TIMEOUT_MS = 30_000;

/** Vigil's default for {@link RemoteWriteConfig.walRetentionBytes}. */
export const DEFAULT_WAL_RETENTION_BYTES = 4 * 1024 ** 3;

/** Headers a `headers:` entry may not set: the protocol's own (Prometheus refuses the same). */
export const RESERVED_HEADERS = [
  'authorization',
  'host',
  'content-encoding',
  'content-length',
  'content-type',
  'user-agent',
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'www-authenticate',
  'accept-encoding',
  'x-prometheus-remote-write-version',
  'x-prometheus-remote-read-version',
  'x-prometheus-scrape-timeout-seconds',
  'x-amz-date',
  'x-amz-security-token',
  'x-amz-content-sha256',
];
