/**
 * `alerting:` as in prometheus.yml: the Alertmanagers that rule alerts are sent to and the relabeling
 * applied to alerts on the way. Each `alertmanagers` entry finds its targets the way a scrape config
 * does (static, file, HTTP and DNS discovery, relabeling, HTTP client settings), so that part is read
 * by the scrape config's own parser. `builtin_router` is Vigil's: whether rule alerts also go to the
 * built-in Alertmanager (on by default; off for an HA pair that shares an Alertmanager cluster).
 */
import { fieldReader, parseTargetSource, relabelList, TARGET_SOURCE_FIELDS, type TargetSource } from '../../metrics/scrape/config.js';
import type { RelabelConfig } from '../../metrics/relabel/relabel.js';

/** One `alertmanagers` entry: a set of Alertmanagers found by discovery. */
export interface AlertmanagerSetConfig extends TargetSource {
  readonly scheme: 'http' | 'https';
  /** Prefix of the API path on each Alertmanager (`/` unless it runs under a sub-path). */
  readonly pathPrefix: string;
  readonly timeoutMs: number;
}

export interface AlertingConfig {
  readonly alertmanagers: readonly AlertmanagerSetConfig[];
  readonly alertRelabelConfigs: readonly RelabelConfig[];
  readonly builtinRouter: boolean;
}

export const DEFAULT_ALERTING_CONFIG: AlertingConfig = { alertmanagers: [], alertRelabelConfigs: [], builtinRouter: true };

const SET_FIELDS = ['scheme', 'path_prefix', 'timeout', 'api_version', 'enable_http2', ...TARGET_SOURCE_FIELDS];

/** Reads `alerting:` (at path `['alerting']`); throws the scrape config's error type, whose path names the field. */
export function parseAlertingConfig(raw: unknown, dir: string, dnsServers: readonly string[]): AlertingConfig {
  if (raw === undefined || raw === null) return DEFAULT_ALERTING_CONFIG;
  const r = fieldReader(dir);
  const root = r.mapping(['alerting'], raw, ['alertmanagers', 'alert_relabel_configs', 'builtin_router']);
  const alertmanagers = r.list(['alerting', 'alertmanagers'], root['alertmanagers']).map((entry, i): AlertmanagerSetConfig => {
    const p = ['alerting', 'alertmanagers', i];
    const c = r.mapping(p, entry, SET_FIELDS);
    const scheme = c['scheme'] === undefined ? 'http' : r.string([...p, 'scheme'], c['scheme']);
    if (scheme !== 'http' && scheme !== 'https') r.fail([...p, 'scheme'], `unsupported scheme ${JSON.stringify(scheme)}`);
    // Alertmanager's v1 API is gone (removed in 0.27, as in Prometheus 3): only v2 is spoken.
    if (c['api_version'] !== undefined && r.string([...p, 'api_version'], c['api_version']) !== 'v2')
      r.fail([...p, 'api_version'], `expected Alertmanager api version to be v2, got ${JSON.stringify(c['api_version'])}`);
    const timeoutMs = c['timeout'] === undefined ? 10_000 : r.duration([...p, 'timeout'], c['timeout']);
    if (timeoutMs <= 0) r.fail([...p, 'timeout'], 'timeout must be positive');
    const prefix = c['path_prefix'] === undefined ? '/' : r.string([...p, 'path_prefix'], c['path_prefix']);
    return {
      scheme: scheme as 'http' | 'https',
      pathPrefix: prefix.startsWith('/') ? prefix : `/${prefix}`,
      timeoutMs,
      ...parseTargetSource(r, p, c, dnsServers),
    };
  });
  return {
    alertmanagers,
    alertRelabelConfigs: relabelList(['alerting', 'alert_relabel_configs'], root['alert_relabel_configs']),
    builtinRouter: root['builtin_router'] === undefined ? true : r.boolean(['alerting', 'builtin_router'], root['builtin_router']),
  };
}
