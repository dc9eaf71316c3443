/**
 * `remote_write:` in vigil.yml: a list of receivers, each entry shaped as in prometheus.yml, e.g.
 * ```yaml
 * remote_write:
 *   - url: http://vminsert:8480/insert/0/prometheus/api/v1/write
 *     name: vm
 *     remote_timeout: 30s
 *     headers: { X-Scope-OrgID: team-a }
 *     write_relabel_configs: [{ source_labels: [__name__], regex: 'go_.*', action: drop }]
 *     basic_auth: { username: vigil, password_file: /etc/vigil/rw-pass }
 *     queue_config: { capacity: 10000, max_shards: 50, max_samples_per_send: 2000, batch_send_deadline: 5s }
 *     metadata_config: { send: true, send_interval: 1m }
 *     wal_retention_size: 4GB   # Vigil's own: how much WAL the sender may hold while it is behind
 * ```
 */
import { parseDuration } from '../../core/time/duration.js';
import { HTTP_CLIENT_FIELDS, parseHttpClientConfig } from '../../core/httpclient/config.js';
import { parseRelabelConfigs, RelabelConfigError } from '../../metrics/relabel/relabel.js';
import {
  DEFAULT_METADATA_CONFIG,
  DEFAULT_QUEUE_CONFIG,
  DEFAULT_REMOTE_TIMEOUT_MS,
  DEFAULT_WAL_RETENTION_BYTES,
  RESERVED_HEADERS,
  type RemoteWriteConfig,
} from '../../metrics/remotewrite/sender/config.js';
import { parseSize } from '../../metrics/scrape/config.js';
import type { Checker } from './config.js';
import { clientConfigReader, onDiskEntryName } from './endpoint_entry.js';

type Path = Array<string | number>;

const ENTRY_FIELDS = [
  'url',
  'name',
  'remote_timeout',
  'headers',
  'write_relabel_configs',
  'queue_config',
  'metadata_config',
  'send_exemplars',
  'send_native_histograms',
  'protobuf_message',
  'round_robin_dns',
  'sigv4',
  'azuread',
  'google_iam',
  'wal_retention_size',
  ...HTTP_CLIENT_FIELDS,
];
const QUEUE_FIELDS = [
  'capacity',
  'max_shards',
  'min_shards',
  'max_samples_per_send',
  'batch_send_deadline',
  'min_backoff',
  'max_backoff',
  'retry_on_http_429',
  'sample_age_limit',
];
const METADATA_FIELDS = ['send', 'send_interval', 'max_samples_per_send'];

/** Parses the `remote_write:` list; `warnings` gets fields that are accepted but not acted on. */
export function parseRemoteWrite(c: Checker, raw: unknown, baseDir: string, warnings: string[]): RemoteWriteConfig[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) c.fail(['remote_write'], 'expected a list of remote_write entries');
  const out = (raw as unknown[]).map((e, i) => parseEntry(c, ['remote_write', i], e, baseDir, warnings));
  const names = new Set<string>();
  out.forEach((e, i) => {
    if (names.has(e.name)) c.fail(['remote_write', i, 'name'], `duplicate remote write configs are not allowed, found duplicate for name: ${e.name}`);
    names.add(e.name);
  });
  return out;
}

/** `headers:` of a remote_write or remote_read entry: extra request headers, never the ones the protocol sets. */
export function parseRemoteHeaders(c: Checker, p: Path, raw: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  const hs = c.keys(p, raw, Object.keys((raw as object | null) ?? {}));
  for (const [k, v] of Object.entries(hs)) {
    if (RESERVED_HEADERS.includes(k.toLowerCase())) c.fail([...p, k], `${k} is a reserved header. It must not be changed`);
    headers[k] = c.str([...p, k], v);
  }
  return headers;
}

function parseEntry(c: Checker, p: Path, raw: unknown, baseDir: string, warnings: string[]): RemoteWriteConfig {
  const e = c.keys(p, raw, ENTRY_FIELDS);
  const at = (k: string): Path => [...p, k];
  const bool = (q: Path, v: unknown): boolean => (typeof v === 'boolean' ? v : c.fail(q, 'expected true or false'));
  const duration = (q: Path, v: unknown): number => c.parsed(q, v, parseDuration);
  const whole = (q: Path, v: unknown, min: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) c.fail(q, `expected a whole number >= ${min}`);
    return v;
  };
  if (e['url'] === undefined) c.fail(at('url'), 'url for remote_write is empty');
  const url = c.str(at('url'), e['url']);
  c.parsed(at('url'), url, (u) => {
    if (!/^https?:$/.test(new URL(u).protocol)) throw new Error('expected an http or https URL');
  });
  for (const k of ['sigv4', 'azuread', 'google_iam'])
    if (e[k] !== undefined && e[k] !== null) c.fail(at(k), `${k} is not supported by Vigil; use authorization or basic_auth`);
  const message = e['protobuf_message'] === undefined ? 'prometheus.WriteRequest' : c.str(at('protobuf_message'), e['protobuf_message']);
  if (message !== 'prometheus.WriteRequest' && message !== 'io.prometheus.write.v2.Request')
    c.fail(at('protobuf_message'), `unknown protobuf message ${JSON.stringify(message)}; expected prometheus.WriteRequest or io.prometheus.write.v2.Request`);

  const headers = parseRemoteHeaders(c, at('headers'), e['headers']);

  let writeRelabelConfigs;
  try {
    writeRelabelConfigs = parseRelabelConfigs(e['write_relabel_configs'], '');
  } catch (err) {
    if (!(err instanceof RelabelConfigError)) throw err;
    const segs: Path = at('write_relabel_configs');
    for (const m of err.field.matchAll(/\[(\d+)\]|\.?([^.[]+)/g)) segs.push(m[1] !== undefined ? Number(m[1]) : m[2]!);
    c.fail(segs, err.message.slice(err.field.length + 2));
  }

  const queue = { ...DEFAULT_QUEUE_CONFIG };
  const q = c.keys(at('queue_config'), e['queue_config'], QUEUE_FIELDS);
  const qa = (k: string): Path => [...at('queue_config'), k];
  if (q['capacity'] !== undefined) queue.capacity = whole(qa('capacity'), q['capacity'], 1);
  if (q['max_shards'] !== undefined) queue.maxShards = whole(qa('max_shards'), q['max_shards'], 1);
  if (q['min_shards'] !== undefined) queue.minShards = whole(qa('min_shards'), q['min_shards'], 1);
  if (q['max_samples_per_send'] !== undefined) queue.maxSamplesPerSend = whole(qa('max_samples_per_send'), q['max_samples_per_send'], 1);
  if (q['batch_send_deadline'] !== undefined) queue.batchSendDeadlineMs = duration(qa('batch_send_deadline'), q['batch_send_deadline']);
  if (q['min_backoff'] !== undefined) queue.minBackoffMs = duration(qa('min_backoff'), q['min_backoff']);
  if (q['max_backoff'] !== undefined) queue.maxBackoffMs = duration(qa('max_backoff'), q['max_backoff']);
  if (q['retry_on_http_429'] !== undefined) queue.retryOnHttp429 = bool(qa('retry_on_http_429'), q['retry_on_http_429']);
  if (q['sample_age_limit'] !== undefined) queue.sampleAgeLimitMs = duration(qa('sample_age_limit'), q['sample_age_limit']);
  if (queue.minShards > queue.maxShards) c.fail(qa('min_shards'), `min_shards (${queue.minShards}) must not exceed max_shards (${queue.maxShards})`);
  if (queue.batchSendDeadlineMs <= 0) c.fail(qa('batch_send_deadline'), 'expected a positive duration such as 5s');
  if (queue.minBackoffMs > queue.maxBackoffMs) c.fail(qa('min_backoff'), 'min_backoff must not exceed max_backoff');

  const metadata = { ...DEFAULT_METADATA_CONFIG };
  const m = c.keys(at('metadata_config'), e['metadata_config'], METADATA_FIELDS);
  const ma = (k: string): Path => [...at('metadata_config'), k];
  if (m['send'] !== undefined) metadata.send = bool(ma('send'), m['send']);
  if (m['send_interval'] !== undefined) metadata.sendIntervalMs = duration(ma('send_interval'), m['send_interval']);
  if (m['max_samples_per_send'] !== undefined) metadata.maxSamplesPerSend = whole(ma('max_samples_per_send'), m['max_samples_per_send'], 1);
  if (metadata.send && metadata.sendIntervalMs <= 0) c.fail(ma('send_interval'), 'expected a positive duration such as 1m');

  const sendExemplars = e['send_exemplars'] === undefined ? false : bool(at('send_exemplars'), e['send_exemplars']);
  const sendNativeHistograms = e['send_native_histograms'] === undefined ? false : bool(at('send_native_histograms'), e['send_native_histograms']);
  if (sendNativeHistograms) warnings.push(c.warning(at('send_native_histograms'), 'ignored: Vigil stores no native histograms to send'));
  if (e['round_robin_dns'] !== undefined) warnings.push(c.warning(at('round_robin_dns'), 'not supported; ignored'));

  const httpClient = parseHttpClientConfig(clientConfigReader(c, baseDir), p, e);
  const remoteTimeoutMs = e['remote_timeout'] === undefined ? DEFAULT_REMOTE_TIMEOUT_MS : duration(at('remote_timeout'), e['remote_timeout']);
  const walRetentionBytes =
    e['wal_retention_size'] === undefined
      ? DEFAULT_WAL_RETENTION_BYTES
      : typeof e['wal_retention_size'] === 'number'
        ? whole(at('wal_retention_size'), e['wal_retention_size'], 0)
        : c.parsed(at('wal_retention_size'), e['wal_retention_size'], parseSize);
  // As Prometheus: an unnamed queue is named by a hash of its configuration, stable across restarts.
  const name = onDiskEntryName(c, at('name'), e, 'a directory');
  return {
    url,
    name,
    remoteTimeoutMs,
    headers,
    writeRelabelConfigs,
    queue,
    metadata,
    sendExemplars,
    sendNativeHistograms,
    protobufMessage: message as RemoteWriteConfig['protobufMessage'],
    walRetentionBytes,
    httpClient,
  };
}
