/**
 * `logs:` in vigil.yml: where logs go besides the embedded store, and where LogQL is answered.
 * ```yaml
 * logs:
 *   forward_to:                      # promtail's `clients:` fields
 *     - url: http://loki:3100/loki/api/v1/push
 *       name: loki
 *       tenant_id: team-a
 *       batchwait: 1s
 *       batchsize: 1MB
 *       backoff_config: { min_period: 500ms, max_period: 5m, max_retries: 0 }
 *       external_labels: { cluster: eu-1 }
 *       basic_auth: { username: vigil, password_file: /etc/vigil/loki-pass }
 *       wal_retention_size: 1GB      # Vigil's own: how much log WAL the forwarder may hold while behind
 *   storage:
 *     type: remote                   # LogQL, labels and series from a Loki-compatible API
 *     remote: { url: http://loki:3100, timeout: 1m }
 * ```
 */
import { HTTP_CLIENT_FIELDS, parseHttpClientConfig } from '../../core/httpclient/config.js';
import { isValidLabelName, sortLabels } from '../../core/model/labels.js';
import { parseDuration } from '../../core/time/duration.js';
import { LOG_FORWARD_DEFAULTS, RESERVED_FORWARD_HEADERS, type LogForwardConfig } from '../../logs/forward/config.js';
import type { RemoteQueryConfig } from '../../core/httpclient/remote_api.js';
import type { Checker } from './config.js';
import { clientConfigReader, onDiskEntryName } from './endpoint_entry.js';
import { parseStorageSource, STORAGE_SOURCE_KEYS } from './storage.js';

type Path = Array<string | number>;

/** The validated `logs:` section. */
export interface LogsConfig {
  /** `forward_to:`: Loki-compatible push endpoints every accepted line is forwarded to. */
  forwardTo: LogForwardConfig[];
  /** `storage.type`: LogQL answered by the embedded store (`local`) or a Loki-compatible API (`remote`). */
  storage: { type: 'local' | 'remote'; remote?: RemoteQueryConfig };
}

/** Nothing forwarded, LogQL answered by the embedded store. */
export function defaultLogsConfig(): LogsConfig {
  return { forwardTo: [], storage: { type: 'local' } };
}

const ENTRY_FIELDS = [
  'url',
  'name',
  'tenant_id',
  'headers',
  'batchwait',
  'batchsize',
  'timeout',
  'backoff_config',
  'drop_rate_limited_batches',
  'external_labels',
  'wal_retention_size',
  ...HTTP_CLIENT_FIELDS,
];
const BACKOFF_FIELDS = ['min_period', 'max_period', 'max_retries'];

/** Reads `logs:`; `parseByteSize` reads sizes as the rest of the file does. */
export function parseLogsConfig(c: Checker, raw: unknown, baseDir: string, parseByteSize: (s: string) => number): LogsConfig {
  const l = c.keys(['logs'], raw, ['forward_to', 'storage']);
  const st = c.keys(['logs', 'storage'], l['storage'], STORAGE_SOURCE_KEYS);
  const storage = parseStorageSource(c, st, baseDir, parseByteSize, {
    at: ['logs', 'storage'],
    local: 'the embedded log store',
    api: 'a Loki-compatible query API, e.g. http://loki:3100',
  });
  const fw = l['forward_to'];
  if (fw === undefined || fw === null) return { forwardTo: [], storage };
  if (!Array.isArray(fw)) c.fail(['logs', 'forward_to'], 'expected a list of push endpoints (promtail client entries)');
  const forwardTo = (fw as unknown[]).map((e, i) => parseEntry(c, ['logs', 'forward_to', i], e, baseDir, parseByteSize));
  const names = new Set<string>();
  forwardTo.forEach((e, i) => {
    if (names.has(e.name)) c.fail(['logs', 'forward_to', i, 'name'], `duplicate forward_to name ${e.name}: give each entry its own name`);
    names.add(e.name);
  });
  return { forwardTo, storage };
}

function parseEntry(c: Checker, p: Path, raw: unknown, baseDir: string, parseByteSize: (s: string) => number): LogForwardConfig {
  const e = c.keys(p, raw, ENTRY_FIELDS);
  const at = (k: string): Path => [...p, k];
  const bool = (q: Path, v: unknown): boolean => (typeof v === 'boolean' ? v : c.fail(q, 'expected true or false'));
  const duration = (q: Path, v: unknown, dflt: number): number => {
    if (v === undefined) return dflt;
    const ms = c.parsed(q, v, parseDuration);
    if (ms <= 0) c.fail(q, 'expected a positive duration');
    return ms;
  };
  const size = (q: Path, v: unknown, dflt: number): number => {
    if (v === undefined) return dflt;
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 1) c.fail(q, 'expected a positive number of bytes or a size such as 1MB');
      return v;
    }
    return c.parsed(q, v, parseByteSize);
  };
  if (e['url'] === undefined) c.fail(at('url'), 'expected the push URL, e.g. http://loki:3100/loki/api/v1/push');
  const url = c.str(at('url'), e['url']);
  c.parsed(at('url'), url, (u) => {
    const parsed = new URL(u);
    if (!/^https?:$/.test(parsed.protocol)) throw new Error('expected an http or https URL');
    if (parsed.username || parsed.password) throw new Error('put credentials in basic_auth or authorization, not in the URL (they would be shown in logs)');
  });

  const headers: Record<string, string> = {};
  const hs = c.keys(at('headers'), e['headers'], Object.keys((e['headers'] as object | null) ?? {}));
  for (const [k, v] of Object.entries(hs)) {
    if (RESERVED_FORWARD_HEADERS.includes(k.toLowerCase()))
      c.fail([...at('headers'), k], `${k} is set by the forwarder itself (use tenant_id for X-Scope-OrgID, basic_auth or authorization for credentials)`);
    headers[k] = c.str([...at('headers'), k], v);
  }
  const externalLabels = Object.entries(c.keys(at('external_labels'), e['external_labels'], Object.keys((e['external_labels'] as object | null) ?? {}))).map(
    ([name, v]) => {
      if (!isValidLabelName(name)) c.fail([...at('external_labels'), name], 'invalid label name');
      return { name, value: c.str([...at('external_labels'), name], v) };
    },
  );

  const b = c.keys(at('backoff_config'), e['backoff_config'], BACKOFF_FIELDS);
  const ba = (k: string): Path => [...at('backoff_config'), k];
  const minBackoffMs = duration(ba('min_period'), b['min_period'], LOG_FORWARD_DEFAULTS.minBackoffMs);
  const maxBackoffMs = duration(ba('max_period'), b['max_period'], LOG_FORWARD_DEFAULTS.maxBackoffMs);
  if (minBackoffMs > maxBackoffMs) c.fail(ba('min_period'), 'min_period must not exceed max_period');
  let maxRetries: number = LOG_FORWARD_DEFAULTS.maxRetries;
  if (b['max_retries'] !== undefined) {
    const n = b['max_retries'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0)
      c.fail(ba('max_retries'), 'expected a whole number >= 0 (0: retry until the receiver takes it)');
    maxRetries = n;
  }

  const tenantId = e['tenant_id'] === undefined ? undefined : c.str(at('tenant_id'), e['tenant_id']);
  // An unnamed entry is named by a hash of its configuration, stable across restarts (its saved position's file).
  const name = onDiskEntryName(c, at('name'), e, 'a file');
  return {
    url,
    name,
    tenantId,
    headers,
    batchWaitMs: duration(at('batchwait'), e['batchwait'], LOG_FORWARD_DEFAULTS.batchWaitMs),
    batchSizeBytes: size(at('batchsize'), e['batchsize'], LOG_FORWARD_DEFAULTS.batchSizeBytes),
    timeoutMs: duration(at('timeout'), e['timeout'], LOG_FORWARD_DEFAULTS.timeoutMs),
    minBackoffMs,
    maxBackoffMs,
    maxRetries,
    dropRateLimitedBatches: e['drop_rate_limited_batches'] === undefined ? false : bool(at('drop_rate_limited_batches'), e['drop_rate_limited_batches']),
    externalLabels: sortLabels(externalLabels),
    walRetentionBytes: size(at('wal_retention_size'), e['wal_retention_size'], LOG_FORWARD_DEFAULTS.walRetentionBytes),
    httpClient: parseHttpClientConfig(clientConfigReader(c, baseDir), p, e),
  };
}
