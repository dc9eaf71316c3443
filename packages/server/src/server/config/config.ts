/**
 * The YAML configuration of `vigil start`, validated on load. An error names the file, the line and
 * the field, so a mistake is found without reading the code.
 */
import { TRANSLATION_STRATEGIES, type TranslationStrategy } from '../../metrics/otlp/names.js';
import { readTextFile } from '../../core/util/files.js';
import { ConfigError } from '../../core/config_error.js';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseDuration } from '../../core/time/duration.js';
import { defaultAlertmanagerConfig, loadAlertmanagerConfig, parseAlertmanagerConfigIn, type AlertmanagerConfig } from '../../alerting/alertmanager/config.js';
import { defaultMetricsGeneratorOptions } from '../../traces/generators/config.js';
import { parseTracesConfig, type TracesConfig } from './traces.js';
import { parseRemoteWrite } from './remote_write.js';
import { parseRemoteRead } from './remote_read.js';
import type { RemoteWriteConfig } from '../../metrics/remotewrite/sender/config.js';
import type { RemoteReadConfig } from '../../metrics/remoteread/store.js';
import { parseStorageSource, STORAGE_SOURCE_KEYS } from './storage.js';
import { parseOutOfOrderWindow, STORAGE_TSDB_KEYS } from './storage_tsdb.js';
import { DEFAULT_DECODED_CHUNK_CACHE_BYTES } from '../../metrics/tsdb/decoded_chunks.js';
import { DEFAULT_OUT_OF_ORDER_WINDOW_MS } from '../../metrics/tsdb/ooo.js';
import { defaultLogsConfig, parseLogsConfig, type LogsConfig } from './logs.js';
import type { RemoteQueryConfig } from '../../core/httpclient/remote_api.js';
import { defaultLimits, FRACTIONAL_LIMITS, SIZE_LIMITS, type LimitsConfig } from './limits.js';
import { parseInlineSLOs, type ParsedSLOs } from '../../alerting/slo/index.js';
import { DEFAULT_ALERTING_CONFIG, parseAlertingConfig, type AlertingConfig } from '../../alerting/notifier/config.js';
import { DEFAULT_GLOBAL, parseGlobalConfig, parseScrapeConfigs, ScrapeConfigError, type GlobalConfig, type ScrapeConfig } from '../../metrics/scrape/config.js';

/** The validated configuration, with defaults filled in. */
export interface VigilConfig {
  /** `mode`: `server` (everything; `vigil start`) or `agent` (scrape, receive and forward through remote_write only; `vigil agent`). */
  mode: 'server' | 'agent';
  /** HOST:PORT to listen on. */
  listen: string;
  storage: {
    /** Data directory. From a file, resolved against the file's directory; the default `data` is relative to the working directory. */
    path: string;
    /** Keep blocks this long, in ms (0: forever). */
    retentionMs: number;
    /** Keep at most this many bytes of blocks and WAL (0: no limit). */
    retentionBytes: number;
    /** `out_of_order_time_window` (or Prometheus' `tsdb.out_of_order_time_window`): late float samples accepted this far behind the newest, in ms (0: in order only). */
    outOfOrderWindowMs: number;
    /** `decoded_chunk_cache_size`: bytes of decoded immutable chunks kept for repeated queries (0: no cache). */
    decodedChunkCacheBytes: number;
    /** `exemplars.max_exemplars`: exemplars kept in the circular buffer (Prometheus' `storage.exemplars.max_exemplars`); 0 disables them. */
    maxExemplars: number;
    /** `type`: where queries are answered: `local` (this TSDB) or `remote` (a Prometheus-compatible query API, `remote`). */
    type: 'local' | 'remote';
    /** `remote`: the query API of `type: remote`. */
    remote?: RemoteQueryConfig;
  };
  remoteWrite: {
    /** Largest accepted compressed request body. */
    maxBodyBytes: number;
  };
  /** `remote_write:`: receivers every sample in the WAL is sent to, as in prometheus.yml. */
  remoteWriteTo: RemoteWriteConfig[];
  /** `remote_read:`: endpoints queries read besides the local TSDB, as in prometheus.yml (read at start). */
  remoteRead: RemoteReadConfig[];
  otlp: {
    /** HOST:PORT of the OTLP/gRPC listener; '' keeps it off. */
    grpcListenAddress: string;
    /** Largest accepted gRPC message, after decompression. */
    grpcMaxMessageBytes: number;
    /** How OTLP metric and attribute names become Prometheus names (Prometheus' `translation_strategy`). */
    translationStrategy: TranslationStrategy;
    /** Resource attributes copied onto every series (`promote_resource_attributes`). */
    promoteResourceAttributes: string[];
    /** Keep service.name, service.namespace, service.instance.id on target_info (`keep_identifying_resource_attributes`). */
    keepIdentifyingResourceAttributes: boolean;
  };
  /** `global:` defaults, as in prometheus.yml. */
  global: GlobalConfig;
  /** `scrape_configs:`, as in prometheus.yml. */
  scrapeConfigs: ScrapeConfig[];
  /** Whether Vigil adds a job that scrapes its own /metrics (unless one is named `vigil`). */
  selfScrape: boolean;
  /** Alert routing, in Alertmanager's format (`alertmanager_config` inline or `alertmanager_config_file`). */
  alertmanager: AlertmanagerConfig;
  /** `alerting:` as in prometheus.yml: external Alertmanagers that rule alerts go to, and whether the built-in one gets them too. */
  alerting: AlertingConfig;
  /** `rule_files:` globs, relative to the configuration file, as in prometheus.yml. */
  ruleFiles: string[];
  /** `log_rule_files:` globs of rule files whose expressions are LogQL metric queries (log alerts, as Loki's ruler runs them). */
  logRuleFiles: string[];
  /** `slos:`: SLO documents written inline (Sloth prometheus/v1, Pyrra, OpenSLO), already validated. */
  slos: ParsedSLOs;
  /** `slo_files:` globs of SLO files, relative to the configuration file. */
  sloFiles: string[];
  /** Directory of the configuration file (where relative paths start); the working directory without one. */
  baseDir: string;
  /** `limits:`, by their configuration names (0: off). */
  limits: LimitsConfig;
  /** Accepted fields that Vigil ignores, as `file:line: field: why`; logged at start and by `vigil check config`. */
  warnings: string[];
  /** The file's top-level mapping as written (empty without a file): fields shown as given in the effective configuration. */
  source: Record<string, unknown>;
  /** Who may reach Vigil from a browser, and connection bounds (`web:`). */
  web: WebConfig;
  /** `discovery:`: Vigil's own settings for service discovery. */
  discovery: {
    /** `dns_servers`: `IP` or `IP:PORT` of the DNS servers `dns_sd_configs` ask; empty: the system's (/etc/resolv.conf). */
    dnsServers: string[];
  };
  /** Query admission and budgets (`query:`), named after Prometheus' `--query.*` flags. */
  query: QueryConfig;
  /** `memory_budget:` bytes Vigil may use; the V8 heap limit is set from it (bin/vigil.js). */
  memoryBudget: number;
  /** `traces:`: the metrics generator (span metrics and service graph). */
  traces: TracesConfig;
  /** `logs:`: forwarding to Loki-compatible push endpoints, and where LogQL is answered. */
  logs: LogsConfig;
}

/** `query:`: how many queries run, how long they may take and how much they may load. */
export interface QueryConfig {
  /** Queries evaluated at once, as `--query.max-concurrency`; more wait in a FIFO queue. */
  maxConcurrency: number;
  /** Longest wait in that queue, ms; then 503 with Retry-After. */
  queueTimeoutMs: number;
  /** Longest evaluation, ms, as `--query.timeout`. */
  timeoutMs: number;
  /** Samples a PromQL query may hold, as `--query.max-samples`. */
  maxSamples: number;
  /** Bytes of log lines a LogQL query may read, as Loki's `max_query_bytes_read` (0: no limit). */
  maxBytesRead: number;
}

/** `web:`: browser access and connection bounds, named after Prometheus' `--web.*` flags. */
export interface WebConfig {
  /** Regex (anchored) of origins allowed cross-origin access, as `--web.cors.origin`; unset: none. */
  corsOrigin: string | undefined;
  /** The URL users reach Vigil by, as `--web.external-url`; its host and origin are accepted. */
  externalUrl: string | undefined;
  /** More host names accepted in the Host header (DNS-rebinding protection). */
  allowedHosts: string[];
  /** Open connections at once, as `--web.max-connections`. */
  maxConnections: number;
  /** The web configuration file (TLS, users, tokens, roles), as `--web.config.file`; absolute. */
  configFile: string | undefined;
  /** Whether `/api/v1/admin/...` answers, as `--web.enable-admin-api`. */
  enableAdminApi: boolean;
  /** Whether `/-/reload` and `/-/quit` answer, as `--web.enable-lifecycle`. */
  enableLifecycle: boolean;
}

/** The default address: loopback, on a port none of Prometheus, Alertmanager, Grafana, Loki or node-exporter use. */
export const DEFAULT_LISTEN = '127.0.0.1:9466';

/** Defaults for every field. */
export function defaultConfig(): VigilConfig {
  return {
    mode: 'server',
    listen: DEFAULT_LISTEN,
    storage: {
      path: 'data',
      retentionMs: 15 * 24 * 3600_000,
      retentionBytes: 0,
      outOfOrderWindowMs: DEFAULT_OUT_OF_ORDER_WINDOW_MS,
      decodedChunkCacheBytes: DEFAULT_DECODED_CHUNK_CACHE_BYTES,
      maxExemplars: 100_000,
      type: 'local',
    },
    remoteWrite: { maxBodyBytes: 32 * 1024 * 1024 },
    remoteWriteTo: [],
    remoteRead: [],
    logs: defaultLogsConfig(),
    // Off unless asked for: a fixed default port would collide when several Vigils run on one host (tests, demos).
    otlp: {
      grpcListenAddress: '',
      grpcMaxMessageBytes: 4 * 1024 * 1024,
      translationStrategy: 'UnderscoreEscapingWithSuffixes',
      promoteResourceAttributes: [],
      keepIdentifyingResourceAttributes: false,
    },
    global: DEFAULT_GLOBAL,
    scrapeConfigs: [],
    alerting: DEFAULT_ALERTING_CONFIG,
    selfScrape: true,
    alertmanager: defaultAlertmanagerConfig(),
    ruleFiles: [],
    logRuleFiles: [],
    slos: { slos: [], windows: [], errors: [] },
    sloFiles: [],
    baseDir: process.cwd(),
    limits: defaultLimits(),
    warnings: [],
    source: {},
    web: {
      corsOrigin: undefined,
      externalUrl: undefined,
      allowedHosts: [],
      maxConnections: 512,
      configFile: undefined,
      enableAdminApi: false,
      enableLifecycle: false,
    },
    discovery: { dnsServers: [] },
    query: { maxConcurrency: 20, queueTimeoutMs: 30_000, timeoutMs: 120_000, maxSamples: 50_000_000, maxBytesRead: 0 },
    memoryBudget: defaultMemoryBudget(),
    traces: { metricsGenerator: defaultMetricsGeneratorOptions() },
  };
}

export { ConfigError } from '../../core/config_error.js';
export { defaultMemoryBudget, parseByteSize, parseMemoryBudget } from './memory_budget.js';
import { defaultMemoryBudget, parseByteSize, parseMemoryBudget } from './memory_budget.js';

/** Checks a `host:port` listen address. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid listen address ${JSON.stringify(s)}: expected HOST:PORT`);
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

type Path = Array<string | number>;

/** prometheus.yml's top-level sections that Vigil accepts in its configuration but does not act on yet. */
const PROMETHEUS_ONLY_SECTIONS = ['scrape_config_files', 'tracing'] as const;
const PROMETHEUS_ONLY_WHY: Record<(typeof PROMETHEUS_ONLY_SECTIONS)[number], string> = {
  scrape_config_files: 'put the jobs under scrape_configs',
  tracing: 'Vigil does not trace itself yet',
};

/** Reads fields with errors that name the file, line and field (shared with the section parsers beside this file). */
export class Checker {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  fail(path: Path, detail: string): never {
    throw new ConfigError(this.file, this.line(path), path.join('.'), detail);
  }

  /** `file:line: field: detail`, for a warning about an accepted field; the line is the key's. */
  warning(path: Path, detail: string): string {
    const parent = path.length > 1 ? this.doc.getIn(path.slice(0, -1), true) : this.doc.contents;
    const pair = isMap(parent) ? parent.items.find((p) => isScalar(p.key) && p.key.value === path.at(-1)) : undefined;
    const line = pair && isScalar(pair.key) && pair.key.range ? this.lines.linePos(pair.key.range[0]).line : this.line(path);
    return `${this.file}:${line}: ${path.join('.')}: ${detail}`;
  }

  private line(path: Path): number {
    let node = this.doc.getIn(path, true);
    // Point at the key when the value is missing or a scalar without a range.
    for (let p = path; !isNode(node) && p.length > 0; p = p.slice(0, -1)) node = this.doc.getIn(p.slice(0, -1), true);
    const offset = isNode(node) && node.range ? node.range[0] : 0;
    return this.lines.linePos(offset).line;
  }

  keys(path: Path, value: unknown, allowed: readonly string[]): Record<string, unknown> {
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(path, 'expected a mapping');
    const rec = value as Record<string, unknown>;
    for (const k of Object.keys(rec)) if (!allowed.includes(k)) this.fail([...path, k], `unknown field; expected one of ${allowed.join(', ')}`);
    return rec;
  }

  str(path: Path, v: unknown): string {
    if (typeof v !== 'string' || v === '') this.fail(path, 'expected a non-empty string');
    return v;
  }

  parsed<T>(path: Path, v: unknown, parse: (s: string) => T): T {
    const s = typeof v === 'number' ? String(v) : this.str(path, v);
    try {
      return parse(s);
    } catch (err) {
      this.fail(path, (err as Error).message);
    }
  }
}

function parseWebSection(c: Checker, value: unknown, baseDir: string): WebConfig {
  const web = defaultConfig().web;
  const w = c.keys(['web'], value, ['cors_origin', 'external_url', 'allowed_hosts', 'max_connections', 'config_file', 'enable_admin_api', 'enable_lifecycle']);
  // Like every path in the file, relative to the file's directory.
  if (w['config_file'] !== undefined) web.configFile = path.resolve(baseDir, c.str(['web', 'config_file'], w['config_file']));
  for (const [key, field] of [
    ['enable_admin_api', 'enableAdminApi'],
    ['enable_lifecycle', 'enableLifecycle'],
  ] as const) {
    const v = w[key];
    if (v !== undefined) web[field] = typeof v === 'boolean' ? v : c.fail(['web', key], 'expected true or false');
  }
  if (w['cors_origin'] !== undefined) {
    web.corsOrigin = c.str(['web', 'cors_origin'], w['cors_origin']);
    c.parsed(['web', 'cors_origin'], web.corsOrigin, (p) => new RegExp(p));
  }
  if (w['external_url'] !== undefined) {
    web.externalUrl = c.str(['web', 'external_url'], w['external_url']);
    c.parsed(['web', 'external_url'], web.externalUrl, (u) => {
      if (!/^https?:$/.test(new URL(u).protocol)) throw new Error('expected an http or https URL');
    });
  }
  if (w['allowed_hosts'] !== undefined) {
    if (!Array.isArray(w['allowed_hosts'])) c.fail(['web', 'allowed_hosts'], 'expected a list of host names');
    web.allowedHosts = (w['allowed_hosts'] as unknown[]).map((h, i) => c.str(['web', 'allowed_hosts', i], h));
  }
  if (w['max_connections'] !== undefined) {
    const n = w['max_connections'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) c.fail(['web', 'max_connections'], 'expected a positive integer');
    web.maxConnections = n;
  }
  return web;
}

function parseQueryConfig(c: Checker, value: unknown, out: QueryConfig): void {
  const q = c.keys(['query'], value, ['max_concurrency', 'queue_timeout', 'timeout', 'max_samples', 'max_bytes_read']);
  const whole = (key: string, min: number): number => {
    const n = q[key];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min) c.fail(['query', key], `expected a whole number >= ${min}`);
    return n;
  };
  const duration = (key: string): number => {
    const ms = c.parsed(['query', key], q[key], parseDuration);
    if (ms <= 0) c.fail(['query', key], 'expected a positive duration such as 2m');
    return ms;
  };
  if (q['max_concurrency'] !== undefined) out.maxConcurrency = whole('max_concurrency', 1);
  if (q['max_samples'] !== undefined) out.maxSamples = whole('max_samples', 1);
  if (q['queue_timeout'] !== undefined) out.queueTimeoutMs = duration('queue_timeout');
  if (q['timeout'] !== undefined) out.timeoutMs = duration('timeout');
  if (q['max_bytes_read'] !== undefined)
    out.maxBytesRead =
      typeof q['max_bytes_read'] === 'number' ? whole('max_bytes_read', 0) : c.parsed(['query', 'max_bytes_read'], q['max_bytes_read'], parseByteSize);
}

/** Parses and validates configuration text; `file` is used in error messages. */
export function parseConfig(text: string, file: string): VigilConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(file, lines.linePos(e.pos[0]).line, '', `invalid YAML: ${e.message.split('\n')[0]}`);
  }
  const c = new Checker(doc, lines, file);
  const cfg = defaultConfig();
  if (doc.contents !== null && !isMap(doc.contents)) c.fail([], 'the configuration must be a mapping');
  const root = c.keys([], doc.toJS(), [
    'mode',
    'listen',
    'storage',
    'remote_write_receiver',
    'global',
    'scrape_configs',
    'self_scrape',
    'alertmanager_config',
    'alertmanager_config_file',
    'alerting',
    'rule_files',
    'log_rule_files',
    'slos',
    'slo_files',
    'limits',
    'web',
    'discovery',
    'query',
    'memory_budget',
    'otlp',
    'traces',
    'remote_write',
    'remote_read',
    'logs',
    ...PROMETHEUS_ONLY_SECTIONS,
  ]);
  cfg.source = root;
  // A pasted prometheus.yml keeps working: the sections Vigil does not act on yet are named, not refused.
  for (const key of PROMETHEUS_ONLY_SECTIONS) {
    if (root[key] !== undefined) cfg.warnings.push(c.warning([key], `not supported yet; ignored (${PROMETHEUS_ONLY_WHY[key]})`));
  }
  if (root['mode'] !== undefined) {
    const mode = root['mode'];
    if (mode !== 'server' && mode !== 'agent') c.fail(['mode'], `expected server or agent, got ${JSON.stringify(mode)}`);
    cfg.mode = mode as 'server' | 'agent';
  }
  if (root['listen'] !== undefined) {
    cfg.listen = c.str(['listen'], root['listen']);
    c.parsed(['listen'], cfg.listen, parseListen);
  }
  cfg.baseDir = path.dirname(path.resolve(file));
  const st = c.keys(['storage'], root['storage'], ['path', 'retention', 'retention_size', 'exemplars', ...STORAGE_SOURCE_KEYS, ...STORAGE_TSDB_KEYS]);
  cfg.storage.outOfOrderWindowMs = parseOutOfOrderWindow(c, st);
  Object.assign(cfg.storage, parseStorageSource(c, st, cfg.baseDir, parseByteSize));
  // Like every path in the file, relative to the file's directory, not to wherever Vigil was started.
  if (st['path'] !== undefined) cfg.storage.path = path.resolve(cfg.baseDir, c.str(['storage', 'path'], st['path']));
  if (st['retention'] !== undefined) cfg.storage.retentionMs = c.parsed(['storage', 'retention'], st['retention'], parseDuration);
  if (st['retention_size'] !== undefined) cfg.storage.retentionBytes = c.parsed(['storage', 'retention_size'], st['retention_size'], parseByteSize);
  const cacheSize = st['decoded_chunk_cache_size'];
  if (cacheSize !== undefined) cfg.storage.decodedChunkCacheBytes = c.parsed(['storage', 'decoded_chunk_cache_size'], cacheSize, parseByteSize);
  const ex = c.keys(['storage', 'exemplars'], st['exemplars'], ['max_exemplars']);
  if (ex['max_exemplars'] !== undefined) {
    const n = ex['max_exemplars'];
    // Bounded so the buffer's columns (about 30 bytes a slot before labels) cannot take the machine's memory by a typo.
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 10_000_000)
      c.fail(['storage', 'exemplars', 'max_exemplars'], 'expected an integer from 0 (exemplar storage off) to 10000000');
    cfg.storage.maxExemplars = n as number;
  }
  cfg.web = parseWebSection(c, root['web'], cfg.baseDir);
  const rw = c.keys(['remote_write_receiver'], root['remote_write_receiver'], ['max_body_size']);
  if (rw['max_body_size'] !== undefined)
    cfg.remoteWrite.maxBodyBytes = c.parsed(['remote_write_receiver', 'max_body_size'], rw['max_body_size'], parseByteSize);
  parseLimits(c, root['limits'], cfg.limits);
  parseQueryConfig(c, root['query'], cfg.query);
  cfg.traces = parseTracesConfig(c, root['traces']);
  if (root['memory_budget'] !== undefined) cfg.memoryBudget = c.parsed(['memory_budget'], root['memory_budget'], parseMemoryBudget);
  parseOtlp(c, root['otlp'], cfg);
  cfg.remoteWriteTo = parseRemoteWrite(c, root['remote_write'], cfg.baseDir, cfg.warnings);
  if (cfg.mode === 'agent' && cfg.remoteWriteTo.length === 0)
    c.fail(['mode'], 'agent mode needs at least one remote_write receiver (remote_write: [{url: ...}]): an agent keeps no data of its own');
  cfg.remoteRead = parseRemoteRead(c, root['remote_read'], cfg.baseDir);
  if (cfg.remoteRead.length > 0 && cfg.storage.type === 'remote')
    c.fail(['remote_read'], 'remote_read merges remote data with the local TSDB, which storage.type: remote does not query; use one or the other');
  cfg.logs = parseLogsConfig(c, root['logs'], cfg.baseDir, parseByteSize);
  const globList = (key: string): string[] => {
    const v = root[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) c.fail([key], 'expected a list of file names or globs');
    return (v as unknown[]).map((f, i) => c.str([key, i], f));
  };
  cfg.ruleFiles = globList('rule_files');
  cfg.logRuleFiles = globList('log_rule_files');
  cfg.sloFiles = globList('slo_files');
  if (root['slos'] !== undefined && root['slos'] !== null) {
    if (!Array.isArray(root['slos'])) c.fail(['slos'], 'expected a list of SLO documents (Sloth prometheus/v1, Pyrra ServiceLevelObjective, OpenSLO SLO)');
    // Read from the YAML nodes so an error names the line in this file.
    cfg.slos = parseInlineSLOs(doc.get('slos', true), lines, file);
    const first = cfg.slos.errors[0];
    if (first) throw new ConfigError(file, first.line, 'slos', first.detail);
  }
  const selfScrape = root['self_scrape'];
  if (selfScrape !== undefined) cfg.selfScrape = typeof selfScrape === 'boolean' ? selfScrape : c.fail(['self_scrape'], 'expected true or false');
  if (root['alertmanager_config'] !== undefined && root['alertmanager_config_file'] !== undefined) {
    c.fail(['alertmanager_config_file'], 'give alertmanager_config or alertmanager_config_file, not both');
  }
  // Alertmanager configuration errors (AlertmanagerConfigError) name their file, line and field too.
  if (root['alertmanager_config'] !== undefined) cfg.alertmanager = parseAlertmanagerConfigIn(doc, lines, file, ['alertmanager_config']);
  const amFile = root['alertmanager_config_file'];
  if (amFile !== undefined) cfg.alertmanager = loadAlertmanagerConfig(path.resolve(path.dirname(file), c.str(['alertmanager_config_file'], amFile)));
  cfg.discovery.dnsServers = parseDnsServers(c, root['discovery']);
  try {
    cfg.global = parseGlobalConfig(root['global']);
    cfg.scrapeConfigs = parseScrapeConfigs(root['scrape_configs'], cfg.global, path.dirname(path.resolve(file)), { dnsServers: cfg.discovery.dnsServers });
    cfg.alerting = parseAlertingConfig(root['alerting'], path.dirname(path.resolve(file)), cfg.discovery.dnsServers);
  } catch (err) {
    if (err instanceof ScrapeConfigError) c.fail([...err.path], err.detail);
    throw err;
  }
  return cfg;
}

/** `discovery.dns_servers`: each an IP address with an optional port (`[IPv6]:PORT`), as Node's resolver takes them. */
function parseDnsServers(c: Checker, value: unknown): string[] {
  const d = c.keys(['discovery'], value, ['dns_servers']);
  const v = d['dns_servers'];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) c.fail(['discovery', 'dns_servers'], 'expected a list of IP or IP:PORT addresses');
  return (v as unknown[]).map((x, i) => {
    const s = c.str(['discovery', 'dns_servers', i], x);
    const m = /^\[([^\]]+)\]:(\d{1,5})$|^([^:]+):(\d{1,5})$/.exec(s);
    const host = m ? (m[1] ?? m[3]!) : s;
    const port = m ? Number(m[2] ?? m[4]) : 53;
    if (net.isIP(host) === 0 || port < 1 || port > 65535)
      c.fail(['discovery', 'dns_servers', i], `invalid DNS server ${JSON.stringify(s)}: expected an IP address, IP:PORT or [IPv6]:PORT`);
    return s;
  });
}

/** Reads `limits:` into `out`: counts are whole numbers, sizes take a unit, MiB rates may be fractional. */
function parseLimits(c: Checker, value: unknown, out: LimitsConfig): void {
  const names = Object.keys(out) as Array<keyof LimitsConfig>;
  const given = c.keys(['limits'], value, names);
  for (const name of names) {
    const v = given[name];
    if (v === undefined) continue;
    const at = ['limits', name];
    if (SIZE_LIMITS.has(name) && typeof v === 'string') out[name] = c.parsed(at, v, parseByteSize);
    else if (typeof v !== 'number' || v < 0 || !Number.isFinite(v) || (!FRACTIONAL_LIMITS.has(name) && !Number.isInteger(v))) {
      c.fail(
        at,
        `expected ${FRACTIONAL_LIMITS.has(name) ? 'a number' : 'a whole number'} >= 0 (0: no limit)${SIZE_LIMITS.has(name) ? ' or a size such as 256KB' : ''}`,
      );
    } else out[name] = v;
  }
  if (out.ingestion_rate > 0 && out.ingestion_burst_size < out.ingestion_rate)
    c.fail(['limits', 'ingestion_burst_size'], 'must be at least ingestion_rate: a second of samples must fit');
  if (out.ingestion_rate_mb > 0 && out.ingestion_burst_size_mb < out.ingestion_rate_mb)
    c.fail(['limits', 'ingestion_burst_size_mb'], 'must be at least ingestion_rate_mb');
}

/** Reads and validates a configuration file. */
export function loadConfig(file: string): VigilConfig {
  return parseConfig(
    readTextFile(file, (detail) => new ConfigError(file, 0, '', detail)),
    file,
  );
}

/** prometheus.yml's OTLP metrics settings Vigil accepts and does not act on yet. */
const PROMETHEUS_OTLP_KEYS = ['ignore_resource_attributes', 'promote_all_resource_attributes', 'convert_histograms_to_nhcb'];

/** `otlp:`: the gRPC listener, and Prometheus' OTLP metrics translation settings. */
function parseOtlp(c: Checker, raw: unknown, cfg: VigilConfig): void {
  const o = c.keys(['otlp'], raw, [
    'grpc_listen_address',
    'grpc_max_message_size',
    'translation_strategy',
    'promote_resource_attributes',
    'keep_identifying_resource_attributes',
    ...PROMETHEUS_OTLP_KEYS,
  ]);
  if (o['grpc_listen_address'] !== undefined) {
    cfg.otlp.grpcListenAddress = c.str(['otlp', 'grpc_listen_address'], o['grpc_listen_address']);
    if (cfg.otlp.grpcListenAddress !== '') c.parsed(['otlp', 'grpc_listen_address'], cfg.otlp.grpcListenAddress, parseListen);
  }
  if (o['grpc_max_message_size'] !== undefined)
    cfg.otlp.grpcMaxMessageBytes = c.parsed(['otlp', 'grpc_max_message_size'], o['grpc_max_message_size'], parseByteSize);
  if (o['translation_strategy'] !== undefined) {
    const s = c.str(['otlp', 'translation_strategy'], o['translation_strategy']);
    if (!(TRANSLATION_STRATEGIES as readonly string[]).includes(s))
      c.fail(['otlp', 'translation_strategy'], `unknown strategy ${JSON.stringify(s)}; expected one of ${TRANSLATION_STRATEGIES.join(', ')}`);
    cfg.otlp.translationStrategy = s as TranslationStrategy;
    if (!s.startsWith('UnderscoreEscaping'))
      cfg.warnings.push(
        c.warning(
          ['otlp', 'translation_strategy'],
          `${s} keeps names unescaped, but the TSDB takes only [a-zA-Z_:][a-zA-Z0-9_:]* metric and label names: a data point whose names hold other characters is refused alone (in partial_success)`,
        ),
      );
  }
  const promote = o['promote_resource_attributes'];
  if (promote !== undefined && promote !== null) {
    if (!Array.isArray(promote)) c.fail(['otlp', 'promote_resource_attributes'], 'expected a list of resource attribute names');
    const names = (promote as unknown[]).map((a, i) => c.str(['otlp', 'promote_resource_attributes', i], a).trim());
    const seen = new Set<string>();
    for (const [i, n] of names.entries()) {
      if (seen.has(n)) c.fail(['otlp', 'promote_resource_attributes', i], `duplicate attribute ${JSON.stringify(n)}`);
      seen.add(n);
    }
    cfg.otlp.promoteResourceAttributes = names;
  }
  const keep = o['keep_identifying_resource_attributes'];
  if (keep !== undefined && keep !== null) {
    if (typeof keep !== 'boolean') c.fail(['otlp', 'keep_identifying_resource_attributes'], 'expected true or false');
    cfg.otlp.keepIdentifyingResourceAttributes = keep;
  }
  for (const k of PROMETHEUS_OTLP_KEYS) if (o[k] !== undefined) cfg.warnings.push(c.warning(['otlp', k], 'not supported yet; ignored'));
}
