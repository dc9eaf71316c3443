/**
 * `global:` and `scrape_configs:` as Prometheus reads them (`config/config.go`), so an existing
 * `prometheus.yml` scrape section works unchanged. Input is the YAML-decoded value; errors carry
 * the path of the offending field so the configuration loader can point at the file and line.
 */
import * as path from 'node:path';
import { isValidLabelName, labelsFrom, type Labels } from '../../core/model/labels.js';
import { parseDuration } from '../../core/time/duration.js';
import { parseRelabelConfigs, RelabelConfigError, type RelabelConfig } from '../relabel/relabel.js';
import { HTTP_CLIENT_FIELDS, parseHttpClientConfig, type HttpClientConfig } from '../../core/httpclient/config.js';
import { VigilError } from '../../core/errors.js';
import {
  parseDnsSdConfigs,
  parseFileSdConfigs,
  parseHttpSdConfigs,
  SD_FIELDS,
  SUPPORTED_SD_TEXT,
  type DnsSdConfig,
  type FileSdConfig,
  type HttpSdConfig,
  type SdReader,
} from './sd_config.js';
import { parseShard, shardRelabelRules, type ScrapeShard } from './shard.js';
import {
  DEFAULT_GLOBAL_FORMATS,
  FORMAT_FIELDS,
  JOB_FORMAT_FIELDS,
  parseGlobalFormats,
  parseScrapeFormats,
  type GlobalFormats,
  type ScrapeFormats,
} from './formats_config.js';

/** A path into the configuration document: mapping keys and list indexes. */
export type ConfigPath = ReadonlyArray<string | number>;

/** A scrape configuration mistake; `path` names the field, e.g. `['scrape_configs', 2, 'scrape_timeout']`. */
export class ScrapeConfigError extends VigilError {
  override readonly code = 'bad_scrape_config' as const;
  constructor(
    readonly path: ConfigPath,
    readonly detail: string,
  ) {
    super('bad_scrape_config', `${formatPath(path)}: ${detail}`);
  }
}

/** `['scrape_configs', 2, 'x']` → `scrape_configs[2].x`. */
export function formatPath(p: ConfigPath): string {
  let out = '';
  for (const seg of p) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

/** The validated `global:` section. */
export interface GlobalConfig extends GlobalFormats {
  readonly scrapeIntervalMs: number;
  readonly scrapeTimeoutMs: number;
  readonly evaluationIntervalMs: number;
  /** Added to series leaving Vigil (remote_write, alerts); sorted. */
  readonly externalLabels: Labels;
  /** Defaults for every scrape config (0: no limit), as Prometheus 2.45+ allows in `global:`. */
  readonly bodySizeLimit: number;
  readonly sampleLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  /** `shard:` (Vigil's): the default split of every job's targets among several scrapers. */
  readonly shard?: ScrapeShard;
}

/** Prometheus' defaults for `global:`. */
export const DEFAULT_GLOBAL: GlobalConfig = {
  scrapeIntervalMs: 60_000,
  scrapeTimeoutMs: 10_000,
  evaluationIntervalMs: 60_000,
  externalLabels: [],
  bodySizeLimit: 0,
  sampleLimit: 0,
  labelLimit: 0,
  labelNameLengthLimit: 0,
  labelValueLengthLimit: 0,
  ...DEFAULT_GLOBAL_FORMATS,
};

/** A group of targets sharing labels, as in `static_configs` and file_sd files. */
export interface TargetGroup {
  /** Identifies the group within its provider (file name and index, or the static index). */
  readonly source: string;
  /** One label set per target, each with `__address__`. */
  readonly targets: ReadonlyArray<Readonly<Record<string, string>>>;
  /** Labels of every target in the group. */
  readonly labels: Readonly<Record<string, string>>;
}

export type { DnsRecordType, DnsSdConfig, FileSdConfig, HttpSdConfig } from './sd_config.js';

export type { Authorization, BasicAuth, TlsConfig } from '../../core/httpclient/config.js';

/** One validated `scrape_configs` entry with every default filled in; the HTTP client settings are Prometheus' HTTP client config. */
export interface ScrapeConfig extends HttpClientConfig, ScrapeFormats {
  readonly jobName: string;
  readonly scrapeIntervalMs: number;
  readonly scrapeTimeoutMs: number;
  readonly metricsPath: string;
  readonly scheme: 'http' | 'https';
  readonly params: Readonly<Record<string, readonly string[]>>;
  readonly honorLabels: boolean;
  readonly honorTimestamps: boolean;
  readonly enableCompression: boolean;
  /** 0: no limit. */
  readonly sampleLimit: number;
  readonly labelLimit: number;
  readonly labelNameLengthLimit: number;
  readonly labelValueLengthLimit: number;
  /** Bytes of uncompressed body; 0: no limit. */
  readonly bodySizeLimit: number;
  readonly staticConfigs: readonly TargetGroup[];
  readonly fileSdConfigs: readonly FileSdConfig[];
  readonly httpSdConfigs: readonly HttpSdConfig[];
  readonly dnsSdConfigs: readonly DnsSdConfig[];
  readonly relabelConfigs: readonly RelabelConfig[];
  readonly metricRelabelConfigs: readonly RelabelConfig[];
}

const GLOBAL_FIELDS = [
  'scrape_interval',
  'scrape_timeout',
  'evaluation_interval',
  'external_labels',
  'body_size_limit',
  'sample_limit',
  'label_limit',
  'label_name_length_limit',
  'label_value_length_limit',
  'shard',
  ...FORMAT_FIELDS,
  // Accepted and ignored: Prometheus-only knobs an existing prometheus.yml may carry.
  'query_log_file',
  'rule_query_offset',
] as const;

const SCRAPE_FIELDS = [
  'job_name',
  'scrape_interval',
  'scrape_timeout',
  'metrics_path',
  'scheme',
  'params',
  'honor_labels',
  'honor_timestamps',
  'track_timestamps_staleness',
  'enable_compression',
  ...HTTP_CLIENT_FIELDS,
  'sample_limit',
  'label_limit',
  'label_name_length_limit',
  'label_value_length_limit',
  'body_size_limit',
  'target_limit',
  'static_configs',
  ...SD_FIELDS,
  'relabel_configs',
  'metric_relabel_configs',
  ...JOB_FORMAT_FIELDS,
  'shard',
] as const;

/** Service discovery mechanisms Prometheus has and Vigil does not, named in a clear error. */
const UNSUPPORTED_SD = /^[a-z0-9]+_sd_configs$/;

type Path = Array<string | number>;

function fail(p: ConfigPath, detail: string): never {
  throw new ScrapeConfigError(p, detail);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v) ?? typeof v;
}

function mapping(p: Path, v: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(p, `expected a mapping, got ${describe(v)}`);
  const rec = v as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    if (allowed.includes(k)) continue;
    if (UNSUPPORTED_SD.test(k)) fail([...p, k], `${k} is not supported by Vigil; ${SUPPORTED_SD_TEXT}`);
    fail([...p, k], `field ${k} not found; expected one of ${allowed.join(', ')}`);
  }
  return rec;
}

function list(p: Path, v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) fail(p, `expected a list, got ${describe(v)}`);
  return v;
}

function has(rec: Record<string, unknown>, k: string): boolean {
  return rec[k] !== undefined && rec[k] !== null;
}

function str(p: Path, v: unknown): string {
  // YAML hands over numbers and booleans for unquoted scalars; Go's yaml reads their text.
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  fail(p, `expected a string, got ${describe(v)}`);
}

function bool(p: Path, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  fail(p, `expected true or false, got ${describe(v)}`);
}

function uint(p: Path, v: unknown): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) fail(p, `expected a non-negative integer, got ${describe(v)}`);
  return n;
}

function duration(p: Path, v: unknown): number {
  const s = str(p, v);
  try {
    return parseDuration(s);
  } catch (err) {
    fail(p, (err as Error).message);
  }
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1024,
  KIB: 1024,
  MB: 1024 ** 2,
  MIB: 1024 ** 2,
  GB: 1024 ** 3,
  GIB: 1024 ** 3,
  TB: 1024 ** 4,
  TIB: 1024 ** 4,
  PB: 1024 ** 5,
  PIB: 1024 ** 5,
};

/**
 * Parses a byte size like `10MB` or `512KiB`: binary multiples whichever spelling is used, as
 * Prometheus' `units.Base2Bytes` does; a bare number is bytes.
 */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(s.trim());
  const unit = m ? (m[2] === '' ? 'B' : m[2]!.toUpperCase()) : '';
  const mult = SIZE_UNITS[unit];
  if (!m || mult === undefined) throw new Error(`invalid size ${JSON.stringify(s)}: expected a number with a unit B, KB, MB, GB, TB or PB`);
  return Math.floor(Number(m[1]) * mult);
}

function size(p: Path, v: unknown): number {
  if (typeof v === 'number') return uint(p, v);
  try {
    return parseSize(str(p, v));
  } catch (err) {
    fail(p, (err as Error).message);
  }
}

function labelMap(p: Path, v: unknown): Record<string, string> {
  if (v === null || v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(p, `expected a mapping of label names to values, got ${describe(v)}`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!isValidLabelName(k)) fail([...p, k], `${JSON.stringify(k)} is not a valid label name`);
    out[k] = val === null ? '' : str([...p, k], val);
  }
  return out;
}

/** A relabel rule list at `p`; its errors name the rule and field under `p`. */
export function relabelList(p: ConfigPath, v: unknown): RelabelConfig[] {
  try {
    return parseRelabelConfigs(v, '');
  } catch (err) {
    if (err instanceof RelabelConfigError) {
      // The relabel module reports `[1].regex`; turn that into path segments under `p`.
      const segs: Path = [...p];
      for (const m of err.field.matchAll(/\[(\d+)\]|\.?([^.[]+)/g)) segs.push(m[1] !== undefined ? Number(m[1]) : m[2]!);
      fail(segs, err.message.slice(err.field.length + 2));
    }
    throw err;
  }
}

/** Validates `global:`; missing fields get Prometheus' defaults. */
export function parseGlobalConfig(raw: unknown): GlobalConfig {
  const p: Path = ['global'];
  const g = mapping(p, raw, GLOBAL_FIELDS);
  const scrapeIntervalMs = has(g, 'scrape_interval')
    ? duration([...p, 'scrape_interval'], g['scrape_interval']) || DEFAULT_GLOBAL.scrapeIntervalMs
    : DEFAULT_GLOBAL.scrapeIntervalMs;
  let scrapeTimeoutMs = has(g, 'scrape_timeout') ? duration([...p, 'scrape_timeout'], g['scrape_timeout']) : 0;
  if (scrapeTimeoutMs > scrapeIntervalMs) fail([...p, 'scrape_timeout'], 'global scrape timeout greater than scrape interval');
  if (scrapeTimeoutMs === 0) scrapeTimeoutMs = Math.min(DEFAULT_GLOBAL.scrapeTimeoutMs, scrapeIntervalMs);
  const evaluationIntervalMs = has(g, 'evaluation_interval')
    ? duration([...p, 'evaluation_interval'], g['evaluation_interval']) || DEFAULT_GLOBAL.evaluationIntervalMs
    : DEFAULT_GLOBAL.evaluationIntervalMs;
  const ext = labelMap([...p, 'external_labels'], g['external_labels']);
  if (Object.hasOwn(ext, '__name__')) fail([...p, 'external_labels', '__name__'], '"__name__" is not a valid external label name');
  for (const [k, v] of Object.entries(ext)) if (v === '') delete ext[k];
  const limit = (k: string): number => (has(g, k) ? uint([...p, k], g[k]) : 0);
  const shard = parseShard([...p, 'shard'], g['shard'], fail);
  return {
    ...(shard ? { shard } : {}),
    scrapeIntervalMs,
    scrapeTimeoutMs,
    evaluationIntervalMs,
    externalLabels: labelsFrom(ext),
    bodySizeLimit: has(g, 'body_size_limit') ? size([...p, 'body_size_limit'], g['body_size_limit']) : 0,
    sampleLimit: limit('sample_limit'),
    labelLimit: limit('label_limit'),
    labelNameLengthLimit: limit('label_name_length_limit'),
    labelValueLengthLimit: limit('label_value_length_limit'),
    ...parseGlobalFormats(fieldReader(''), p, g),
  };
}

/** Settings of Vigil's own that scrape configs take (vigil.yml's `discovery:`). */
export interface ScrapeParseOptions {
  /** `host:port` of the DNS servers dns_sd_configs ask; empty: the system's. */
  readonly dnsServers?: readonly string[];
}

/**
 * Validates `scrape_configs:`. `global` supplies defaults; relative file paths (password files,
 * TLS files, file_sd globs) are resolved against `fileDir`, the directory of the config file.
 */
export function parseScrapeConfigs(raw: unknown, global: GlobalConfig, fileDir: string, opts: ScrapeParseOptions = {}): ScrapeConfig[] {
  const entries = list(['scrape_configs'], raw);
  refuseUnsupportedDiscovery(entries);
  const seen = new Map<string, number>();
  return entries.map((entry, i) => {
    const cfg = parseScrapeConfig(['scrape_configs', i], entry, global, fileDir, opts.dnsServers ?? []);
    const prev = seen.get(cfg.jobName);
    if (prev !== undefined)
      fail(['scrape_configs', i, 'job_name'], `found multiple scrape configs with job name ${JSON.stringify(cfg.jobName)} (first at scrape_configs[${prev}])`);
    seen.set(cfg.jobName, i);
    return cfg;
  });
}

/**
 * Names every service discovery Vigil lacks in one error (a pasted prometheus.yml often has several),
 * pointing at the first, rather than one per attempt.
 */
function refuseUnsupportedDiscovery(entries: readonly unknown[]): void {
  const found: Array<{ path: Path; text: string }> = [];
  entries.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return;
    const rec = entry as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if ((SCRAPE_FIELDS as readonly string[]).includes(k) || !UNSUPPORTED_SD.test(k)) continue;
      const job = typeof rec['job_name'] === 'string' ? ` (job ${JSON.stringify(rec['job_name'])})` : ` (scrape_configs[${i}])`;
      found.push({ path: ['scrape_configs', i, k], text: k + job });
    }
  });
  if (found.length === 0) return;
  const names = found.map((f) => f.text).join(', ');
  fail(found[0]!.path, `not supported by Vigil: ${names}; ${SUPPORTED_SD_TEXT}`);
}

function parseScrapeConfig(p: Path, raw: unknown, global: GlobalConfig, dir: string, dnsServers: readonly string[]): ScrapeConfig {
  if (raw === null || raw === undefined) fail(p, 'empty scrape config');
  const c = mapping(p, raw, SCRAPE_FIELDS);
  const at = (k: string): Path => [...p, k];

  if (!has(c, 'job_name') || str(at('job_name'), c['job_name']) === '') fail(at('job_name'), 'job_name is empty');
  const jobName = str(at('job_name'), c['job_name']);

  const scrapeIntervalMs = (has(c, 'scrape_interval') ? duration(at('scrape_interval'), c['scrape_interval']) : 0) || global.scrapeIntervalMs;
  let scrapeTimeoutMs = has(c, 'scrape_timeout') ? duration(at('scrape_timeout'), c['scrape_timeout']) : 0;
  if (scrapeTimeoutMs > scrapeIntervalMs)
    fail(at('scrape_timeout'), `scrape timeout greater than scrape interval for scrape config with job name ${JSON.stringify(jobName)}`);
  if (scrapeTimeoutMs === 0) scrapeTimeoutMs = Math.min(global.scrapeTimeoutMs, scrapeIntervalMs);

  const metricsPath = has(c, 'metrics_path') ? str(at('metrics_path'), c['metrics_path']) : '/metrics';
  const scheme = has(c, 'scheme') ? str(at('scheme'), c['scheme']) : 'http';
  if (scheme !== 'http' && scheme !== 'https') fail(at('scheme'), `unsupported scheme ${JSON.stringify(scheme)}`);

  const params: Record<string, string[]> = {};
  const rawParams = mapping(at('params'), c['params'], Object.keys((c['params'] as object | null) ?? {}));
  for (const [k, v] of Object.entries(rawParams)) params[k] = list([...at('params'), k], v).map((x, j) => str([...at('params'), k, j], x));

  const flag = (k: string, dflt: boolean): boolean => (has(c, k) ? bool(at(k), c[k]) : dflt);
  const limit = (k: string, dflt: number): number => (has(c, k) ? uint(at(k), c[k]) : dflt);

  const reader = fieldReader(dir);
  const source = parseTargetSource(reader, p, c, dnsServers);
  // The job's own shard, else the global one; its rules come after the job's relabel_configs.
  const shard = parseShard(at('shard'), c['shard'], fail) ?? global.shard;

  const cfg: ScrapeConfig = {
    jobName,
    scrapeIntervalMs,
    scrapeTimeoutMs,
    metricsPath,
    scheme,
    params,
    honorLabels: flag('honor_labels', false),
    honorTimestamps: flag('honor_timestamps', true),
    enableCompression: flag('enable_compression', true),
    ...source.httpClient,
    sampleLimit: limit('sample_limit', global.sampleLimit),
    labelLimit: limit('label_limit', global.labelLimit),
    labelNameLengthLimit: limit('label_name_length_limit', global.labelNameLengthLimit),
    labelValueLengthLimit: limit('label_value_length_limit', global.labelValueLengthLimit),
    bodySizeLimit: has(c, 'body_size_limit') ? size(at('body_size_limit'), c['body_size_limit']) : global.bodySizeLimit,
    staticConfigs: source.staticConfigs,
    fileSdConfigs: source.fileSdConfigs,
    httpSdConfigs: source.httpSdConfigs,
    dnsSdConfigs: source.dnsSdConfigs,
    relabelConfigs: shard ? [...source.relabelConfigs, ...shardRelabelRules(shard)] : source.relabelConfigs,
    metricRelabelConfigs: relabelList(at('metric_relabel_configs'), c['metric_relabel_configs']),
    ...parseScrapeFormats(reader, p, c, global),
  };
  // Validate the remaining boolean knob even though it changes nothing here.
  flag('track_timestamps_staleness', false);
  return cfg;
}

/** This module's field readers, for the discovery parsers and for other sections built like a scrape config. */
export function fieldReader(dir: string): SdReader {
  return {
    fail,
    mapping: (q, v, allowed) => mapping([...q], v, allowed),
    string: (q, v) => str([...q], v),
    boolean: (q, v) => bool([...q], v),
    resolve: (f) => path.resolve(dir, f),
    list: (q, v) => list([...q], v),
    duration: (q, v) => duration([...q], v),
    uint: (q, v) => uint([...q], v),
  };
}

/** The fields a scrape config shares with `alerting.alertmanagers` entries: where targets come from and how to reach them. */
export const TARGET_SOURCE_FIELDS = [...HTTP_CLIENT_FIELDS, 'static_configs', ...SD_FIELDS, 'relabel_configs'] as const;

/** Targets found by discovery, relabeled, and reached with one HTTP client configuration. */
export interface TargetSource {
  readonly httpClient: HttpClientConfig;
  readonly staticConfigs: readonly TargetGroup[];
  readonly fileSdConfigs: readonly FileSdConfig[];
  readonly httpSdConfigs: readonly HttpSdConfig[];
  readonly dnsSdConfigs: readonly DnsSdConfig[];
  readonly relabelConfigs: readonly RelabelConfig[];
}

/** Reads {@link TARGET_SOURCE_FIELDS} of the mapping `c` at `p`. */
export function parseTargetSource(r: SdReader, p: ConfigPath, c: Record<string, unknown>, dnsServers: readonly string[]): TargetSource {
  const at = (k: string): Path => [...p, k];
  return {
    httpClient: parseHttpClientConfig(r, p, c),
    staticConfigs: list(at('static_configs'), c['static_configs']).map((sc, j) => parseTargetGroup([...at('static_configs'), j], sc, String(j))),
    fileSdConfigs: parseFileSdConfigs(r, at('file_sd_configs'), c['file_sd_configs']),
    httpSdConfigs: parseHttpSdConfigs(r, at('http_sd_configs'), c['http_sd_configs']),
    dnsSdConfigs: parseDnsSdConfigs(r, at('dns_sd_configs'), c['dns_sd_configs'], dnsServers),
    relabelConfigs: relabelList(at('relabel_configs'), c['relabel_configs']),
  };
}

/**
 * Validates one target group (`targets` + `labels`), from `static_configs` or a file_sd file.
 * `source` identifies the group; errors name `p`.
 */
export function parseTargetGroup(p: ConfigPath, raw: unknown, source: string): TargetGroup {
  const at: Path = [...p];
  const g = mapping(at, raw, ['targets', 'labels']);
  const targets = list([...at, 'targets'], g['targets']).map((t, k) => {
    const addr = str([...at, 'targets', k], t);
    if (addr === '') fail([...at, 'targets', k], 'empty target address');
    return { __address__: addr };
  });
  return { source, targets, labels: labelMap([...at, 'labels'], g['labels']) };
}
