/**
 * The effective configuration as `/api/v1/status/config` shows it: every field with the value in
 * force (defaults filled, relative paths resolved), in vigil.yml's own shape and with secrets
 * hidden, as Prometheus shows its loaded configuration rather than the file it read.
 */
import { parse, stringify } from 'yaml';
import { redactSecrets } from '../../core/config_secrets.js';
import { labelsToRecord } from '../../core/model/labels.js';
import { formatDuration } from '../../core/time/duration.js';
import type { VigilConfig } from './config.js';

const BYTE_UNITS: ReadonlyArray<readonly [string, number]> = [
  ['PB', 1024 ** 5],
  ['TB', 1024 ** 4],
  ['GB', 1024 ** 3],
  ['MB', 1024 ** 2],
  ['KB', 1024],
];

/** A byte count in the largest unit that divides it exactly (`32MB`), as `parseByteSize` reads it back. */
export function formatByteSize(bytes: number): string {
  for (const [unit, size] of BYTE_UNITS) if (bytes > 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  return `${bytes}B`;
}

/** The effective configuration as plain values, secrets included: only for {@link effectiveConfigYaml}. */
function effectiveConfig(cfg: VigilConfig): Record<string, unknown> {
  const g = cfg.global;
  const rawJobs = Array.isArray(cfg.source['scrape_configs']) ? (cfg.source['scrape_configs'] as unknown[]) : [];
  const out: Record<string, unknown> = {
    listen: cfg.listen,
    storage: {
      path: cfg.storage.path,
      retention: formatDuration(cfg.storage.retentionMs),
      retention_size: formatByteSize(cfg.storage.retentionBytes),
      out_of_order_time_window: formatDuration(cfg.storage.outOfOrderWindowMs),
      decoded_chunk_cache_size: formatByteSize(cfg.storage.decodedChunkCacheBytes),
      exemplars: { max_exemplars: cfg.storage.maxExemplars },
      type: cfg.storage.type,
      // As written (secrets are redacted with the rest of the output).
      ...(cfg.storage.remote ? { remote: (cfg.source['storage'] as Record<string, unknown> | undefined)?.['remote'] } : {}),
    },
    remote_write_receiver: { max_body_size: formatByteSize(cfg.remoteWrite.maxBodyBytes) },
    global: {
      scrape_interval: formatDuration(g.scrapeIntervalMs),
      scrape_timeout: formatDuration(g.scrapeTimeoutMs),
      evaluation_interval: formatDuration(g.evaluationIntervalMs),
      external_labels: labelsToRecord(g.externalLabels),
      body_size_limit: formatByteSize(g.bodySizeLimit),
      sample_limit: g.sampleLimit,
      label_limit: g.labelLimit,
      label_name_length_limit: g.labelNameLengthLimit,
      label_value_length_limit: g.labelValueLengthLimit,
    },
    self_scrape: cfg.selfScrape,
    discovery: { dns_servers: cfg.discovery.dnsServers },
    memory_budget: formatByteSize(cfg.memoryBudget),
    query: {
      max_concurrency: cfg.query.maxConcurrency,
      queue_timeout: formatDuration(cfg.query.queueTimeoutMs),
      timeout: formatDuration(cfg.query.timeoutMs),
      max_samples: cfg.query.maxSamples,
      max_bytes_read: formatByteSize(cfg.query.maxBytesRead),
    },
    traces: { metrics_generator: effectiveGenerator(cfg) },
    rule_files: cfg.ruleFiles,
    log_rule_files: cfg.logRuleFiles,
    // The job's own fields as written, after the defaults it inherited (from `global:` or Prometheus').
    scrape_configs: cfg.scrapeConfigs.map((j, i) => ({
      job_name: j.jobName,
      honor_labels: j.honorLabels,
      honor_timestamps: j.honorTimestamps,
      scrape_interval: formatDuration(j.scrapeIntervalMs),
      scrape_timeout: formatDuration(j.scrapeTimeoutMs),
      metrics_path: j.metricsPath,
      scheme: j.scheme,
      enable_compression: j.enableCompression,
      ...(rawJobs[i] as Record<string, unknown> | undefined),
    })),
  };
  const rawWrites = Array.isArray(cfg.source['remote_write']) ? (cfg.source['remote_write'] as unknown[]) : [];
  if (cfg.remoteWriteTo.length > 0)
    out['remote_write'] = cfg.remoteWriteTo.map((r, i) => {
      const q = r.queue;
      return {
        ...(rawWrites[i] as Record<string, unknown> | undefined),
        url: r.url,
        name: r.name,
        remote_timeout: formatDuration(r.remoteTimeoutMs),
        queue_config: {
          capacity: q.capacity,
          max_shards: q.maxShards,
          min_shards: q.minShards,
          max_samples_per_send: q.maxSamplesPerSend,
          batch_send_deadline: formatDuration(q.batchSendDeadlineMs),
          min_backoff: formatDuration(q.minBackoffMs),
          max_backoff: formatDuration(q.maxBackoffMs),
          retry_on_http_429: q.retryOnHttp429,
          sample_age_limit: formatDuration(q.sampleAgeLimitMs),
        },
        metadata_config: {
          send: r.metadata.send,
          send_interval: formatDuration(r.metadata.sendIntervalMs),
          max_samples_per_send: r.metadata.maxSamplesPerSend,
        },
        protobuf_message: r.protobufMessage,
        wal_retention_size: formatByteSize(r.walRetentionBytes),
      };
    });
  const rawReads = Array.isArray(cfg.source['remote_read']) ? (cfg.source['remote_read'] as unknown[]) : [];
  if (cfg.remoteRead.length > 0)
    out['remote_read'] = cfg.remoteRead.map((r, i) => ({
      ...(rawReads[i] as Record<string, unknown> | undefined),
      url: r.url,
      name: r.name,
      remote_timeout: formatDuration(r.remoteTimeoutMs),
      read_recent: r.readRecent,
      filter_external_labels: r.filterExternalLabels,
    }));
  const rawLogs = (cfg.source['logs'] ?? {}) as { forward_to?: unknown[]; storage?: unknown };
  if (cfg.logs.forwardTo.length > 0 || cfg.logs.storage.type === 'remote')
    out['logs'] = {
      ...(rawLogs.storage !== undefined ? { storage: rawLogs.storage } : {}),
      forward_to: cfg.logs.forwardTo.map((f, i) => ({
        ...(rawLogs.forward_to?.[i] as Record<string, unknown> | undefined),
        url: f.url,
        name: f.name,
        batchwait: formatDuration(f.batchWaitMs),
        batchsize: formatByteSize(f.batchSizeBytes),
        timeout: formatDuration(f.timeoutMs),
        backoff_config: { min_period: formatDuration(f.minBackoffMs), max_period: formatDuration(f.maxBackoffMs), max_retries: f.maxRetries },
        drop_rate_limited_batches: f.dropRateLimitedBatches,
        wal_retention_size: formatByteSize(f.walRetentionBytes),
      })),
    };
  const amFile = cfg.source['alertmanager_config_file'];
  if (typeof amFile === 'string') out['alertmanager_config_file'] = amFile;
  else out['alertmanager_config'] = parse(cfg.alertmanager.original) as unknown;
  return out;
}

/** The effective configuration as YAML, every secret shown as `<secret>`. */
export function effectiveConfigYaml(cfg: VigilConfig): string {
  return stringify(redactSecrets(effectiveConfig(cfg)));
}

function effectiveGenerator(cfg: VigilConfig): Record<string, unknown> {
  const g = cfg.traces.metricsGenerator;
  return {
    enabled: g.enabled,
    dimensions: g.dimensions,
    histogram_buckets: g.histogramBuckets,
    max_active_series: g.maxActiveSeries,
    flush_interval: formatDuration(g.flushIntervalMs),
    stale_duration: formatDuration(g.staleMs),
    metrics_ingestion_time_range_slack: formatDuration(g.ingestionSlackMs),
    service_graph: {
      wait: formatDuration(g.serviceGraph.waitMs),
      max_items: g.serviceGraph.maxItems,
      dimensions: g.serviceGraph.dimensions,
      histogram_buckets: g.serviceGraph.histogramBuckets,
    },
  };
}
