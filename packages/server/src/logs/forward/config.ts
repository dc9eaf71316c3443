/**
 * One `logs.forward_to:` entry of vigil.yml: a Loki-compatible push endpoint every line the log
 * store accepts is forwarded to. The fields are promtail's `clients:` fields (batching, backoff,
 * tenant, external labels, Prometheus' HTTP client settings), validated by server/config/logs.ts,
 * plus `wal_retention_size`, Vigil's bound on the WAL it keeps for a receiver that is behind.
 */
import type { HttpClientConfig } from '../../core/httpclient/config.js';
import type { Labels } from '../../core/model/labels.js';

export interface LogForwardConfig {
  /** The push URL (`http://loki:3100/loki/api/v1/push`). */
  url: string;
  /** `name`, or a hash of the entry: names the forwarder in metrics, logs and its saved position. */
  name: string;
  /** Sent as `X-Scope-OrgID` (Loki's tenant), when set. */
  tenantId: string | undefined;
  headers: Record<string, string>;
  /** `batchwait`: longest a line waits for its batch to fill, ms. */
  batchWaitMs: number;
  /** `batchsize`: line bytes a batch holds at most (a single larger line goes alone). */
  batchSizeBytes: number;
  /** `timeout`: longest wait for one push's answer, ms. */
  timeoutMs: number;
  /** `backoff_config`: doubling waits between tries. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Tries before a batch is dropped; 0 (Vigil's default, unlike promtail's 10): never, so nothing acknowledged is lost. */
  maxRetries: number;
  /** `drop_rate_limited_batches`: drop a batch answered 429 instead of retrying it. */
  dropRateLimitedBatches: boolean;
  /** `external_labels`: added to every stream that has no label of that name. */
  externalLabels: Labels;
  /** WAL bytes the forwarder may hold back from the store's cleanup while it is behind; past it the oldest are let go. */
  walRetentionBytes: number;
  httpClient: HttpClientConfig;
}

/** promtail's client defaults, except `max_retries` (see {@link LogForwardConfig.maxRetries}). */
export const LOG_FORWARD_DEFAULTS = Object.freeze({
  batchWaitMs: 1_000,
  batchSizeBytes: 1024 * 1024,
  timeoutMs: 10_000,
  minBackoffMs: 500,
  maxBackoffMs: 5 * 60_000,
  maxRetries: 0,
  dropRateLimitedBatches: false,
  walRetentionBytes: 1024 ** 3,
});

/** Headers a `headers:` entry may not set: the push protocol's own. */
export const RESERVED_FORWARD_HEADERS = ['authorization', 'host', 'content-encoding', 'content-length', 'content-type', 'user-agent', 'x-scope-orgid'];
