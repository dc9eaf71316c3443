/**
 * `storage.type` and `storage.remote`: where PromQL queries, series, labels, metadata and exemplars
 * are answered from. `local` (the default) is Vigil's own TSDB; `remote` is a Prometheus-compatible
 * query API (a VictoriaMetrics or Mimir cluster), reached with Prometheus' HTTP client fields.
 */
import * as path from 'node:path';
import { HTTP_CLIENT_FIELDS, parseHttpClientConfig, type ConfigReader, type FieldPath } from '../../core/httpclient/config.js';
import { parseDuration } from '../../core/time/duration.js';
import type { RemoteQueryConfig } from '../../core/httpclient/remote_api.js';

/** The keys `storage:` takes for the query source. */
export const STORAGE_SOURCE_KEYS = ['type', 'remote'] as const;

/** The remote's fields besides the HTTP client's. */
const REMOTE_KEYS = ['url', 'timeout', 'max_response_size'] as const;

/** What the caller's checker offers (server/config/config.ts `Checker`). */
export interface StorageChecker {
  fail(path: Array<string | number>, detail: string): never;
  keys(path: Array<string | number>, value: unknown, allowed: readonly string[]): Record<string, unknown>;
  parsed<T>(path: Array<string | number>, v: unknown, parse: (s: string) => T): T;
}

/** Defaults of a remote: Prometheus' remote_read timeout; answers up to 256 MiB. */
export const REMOTE_DEFAULTS = { timeoutMs: 60_000, maxResponseBytes: 256 * 1024 * 1024 } as const;

/** What differs between the metrics' `storage:` and the logs' `logs.storage:`: where it is, what the remote speaks. */
export interface StorageSourceKind {
  /** The mapping's path (`['storage']`, `['logs', 'storage']`). */
  readonly at: readonly string[];
  /** The embedded store, for the error on a bad `type`. */
  readonly local: string;
  /** The API the remote must speak, with an example URL. */
  readonly api: string;
}

/** The metrics' `storage:`. */
export const METRICS_STORAGE: StorageSourceKind = {
  at: ['storage'],
  local: 'the embedded TSDB',
  api: 'a Prometheus-compatible query API, e.g. http://victoriametrics:8428',
};

/** Reads `type` and `remote` of a storage source (`st` is its mapping; sizes read by the caller's `parseByteSize`). */
export function parseStorageSource(
  c: StorageChecker,
  st: Record<string, unknown>,
  baseDir: string,
  parseByteSize: (s: string) => number,
  kind: StorageSourceKind = METRICS_STORAGE,
): { type: 'local' | 'remote'; remote?: RemoteQueryConfig } {
  const type = st['type'] ?? 'local';
  const name = kind.at.join('.');
  if (type !== 'local' && type !== 'remote') c.fail([...kind.at, 'type'], `expected local (${kind.local}, the default) or remote`);
  if (type === 'local') {
    if (st['remote'] !== undefined && st['remote'] !== null) c.fail([...kind.at, 'remote'], `${name}.remote needs ${name}.type: remote`);
    return { type };
  }
  const p = [...kind.at, 'remote'];
  if (st['remote'] === undefined || st['remote'] === null) c.fail(p, `${name}.type: remote needs ${name}.remote with at least a url`);
  const r = c.keys(p, st['remote'], [...REMOTE_KEYS, ...HTTP_CLIENT_FIELDS]);
  const url = r['url'];
  if (typeof url !== 'string' || url === '') c.fail([...p, 'url'], `expected the URL of ${kind.api}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    c.fail([...p, 'url'], `invalid URL ${JSON.stringify(url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    c.fail([...p, 'url'], `unsupported scheme ${JSON.stringify(u.protocol.slice(0, -1))}: expected http or https`);
  if (u.username || u.password) c.fail([...p, 'url'], 'put credentials in basic_auth or authorization, not in the URL (they would be shown in errors)');
  const timeoutMs = r['timeout'] !== undefined ? c.parsed([...p, 'timeout'], r['timeout'], parseDuration) : REMOTE_DEFAULTS.timeoutMs;
  if (timeoutMs <= 0) c.fail([...p, 'timeout'], 'expected a positive duration');
  const maxResponseBytes =
    r['max_response_size'] !== undefined ? c.parsed([...p, 'max_response_size'], r['max_response_size'], parseByteSize) : REMOTE_DEFAULTS.maxResponseBytes;
  const reader: ConfigReader = {
    fail: (fp: FieldPath, detail: string) => c.fail([...fp], detail),
    mapping: (fp, v, allowed) => c.keys([...fp], v, allowed),
    string: (fp, v) => (typeof v === 'string' ? v : c.fail([...fp], 'expected a string')),
    boolean: (fp, v) => (typeof v === 'boolean' ? v : c.fail([...fp], 'expected true or false')),
    resolve: (file) => path.resolve(baseDir, file),
  };
  const httpClient = parseHttpClientConfig(reader, p, r);
  return { type, remote: { url: url.replace(/\/+$/, ''), timeoutMs, maxResponseBytes, httpClient } };
}
