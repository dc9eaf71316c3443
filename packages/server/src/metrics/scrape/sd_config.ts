/**
 * The service discovery sections of a scrape config that Vigil runs: `file_sd_configs`,
 * `http_sd_configs` and `dns_sd_configs`, validated as Prometheus' `discovery/file`, `discovery/http`
 * and `discovery/dns` packages validate them, with their defaults filled in.
 */
import { HTTP_CLIENT_FIELDS, parseHttpClientConfig, type ConfigReader, type FieldPath, type HttpClientConfig } from '../../core/httpclient/config.js';

/** One `file_sd_configs` entry. */
export interface FileSdConfig {
  /** Absolute paths; the last path element may contain `*`. */
  readonly files: readonly string[];
  readonly refreshIntervalMs: number;
}

/** One `http_sd_configs` entry: a URL answering a JSON list of target groups, with Prometheus' HTTP client settings. */
export interface HttpSdConfig extends HttpClientConfig {
  readonly url: string;
  readonly refreshIntervalMs: number;
}

/** The DNS record types `dns_sd_configs` queries. */
export type DnsRecordType = 'SRV' | 'A' | 'AAAA' | 'MX' | 'NS';

/** One `dns_sd_configs` entry. */
export interface DnsSdConfig {
  readonly names: readonly string[];
  readonly type: DnsRecordType;
  /** The port of every target; SRV records carry their own (0 then). */
  readonly port: number;
  readonly refreshIntervalMs: number;
  /**
   * `host:port` of the DNS servers to ask (vigil.yml's `discovery.dns_servers`); empty: the system's
   * resolvers from /etc/resolv.conf, as Prometheus uses.
   */
  readonly servers: readonly string[];
}

/** What the discovery parsers need from the scrape config reader besides {@link ConfigReader}. */
export interface SdReader extends ConfigReader {
  list(path: FieldPath, v: unknown): unknown[];
  /** A duration in ms. */
  duration(path: FieldPath, v: unknown): number;
  uint(path: FieldPath, v: unknown): number;
}

/** The service discovery keys a scrape config may hold. */
export const SD_FIELDS = ['file_sd_configs', 'http_sd_configs', 'dns_sd_configs'] as const;

/** The discovery mechanisms Vigil runs, for messages about the ones it does not. */
export const SUPPORTED_SD_TEXT = 'use static_configs, file_sd_configs, http_sd_configs or dns_sd_configs';

function has(rec: Record<string, unknown>, k: string): boolean {
  return rec[k] !== undefined && rec[k] !== null;
}

// Prometheus' `patFileSDName`: a `*` may appear only in the last path element.
const FILE_SD_NAME = /^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$/;

function refresh(r: SdReader, p: FieldPath, c: Record<string, unknown>, dfltMs: number): number {
  const ms = has(c, 'refresh_interval') ? r.duration([...p, 'refresh_interval'], c['refresh_interval']) : dfltMs;
  if (ms <= 0) r.fail([...p, 'refresh_interval'], 'refresh_interval must be greater than 0');
  return ms;
}

/** `file_sd_configs`: globs resolved against the config file's directory; refresh every 5 minutes by default. */
export function parseFileSdConfigs(r: SdReader, p: FieldPath, raw: unknown): FileSdConfig[] {
  return r.list(p, raw).map((f, j): FileSdConfig => {
    const fp = [...p, j];
    const fc = r.mapping(fp, f, ['files', 'refresh_interval']);
    const files = r.list([...fp, 'files'], fc['files']).map((x, k) => {
      const name = r.string([...fp, 'files', k], x);
      if (!FILE_SD_NAME.test(name)) r.fail([...fp, 'files', k], `path name ${JSON.stringify(name)} is not valid for file discovery`);
      return r.resolve(name);
    });
    if (files.length === 0) r.fail([...fp, 'files'], 'file service discovery config must contain at least one path name');
    return { files, refreshIntervalMs: refresh(r, fp, fc, 5 * 60_000) };
  });
}

/** `http_sd_configs`: `url` (http or https, with a host) and the HTTP client fields; refresh every minute by default. */
export function parseHttpSdConfigs(r: SdReader, p: FieldPath, raw: unknown): HttpSdConfig[] {
  return r.list(p, raw).map((h, j): HttpSdConfig => {
    const hp = [...p, j];
    const hc = r.mapping(hp, h, ['url', 'refresh_interval', ...HTTP_CLIENT_FIELDS]);
    if (!has(hc, 'url')) r.fail([...hp, 'url'], 'URL is missing');
    const url = r.string([...hp, 'url'], hc['url']);
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      r.fail([...hp, 'url'], `invalid URL ${JSON.stringify(url)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') r.fail([...hp, 'url'], "URL scheme must be 'http' or 'https'");
    if (u.host === '') r.fail([...hp, 'url'], 'host is missing in URL');
    return { url, refreshIntervalMs: refresh(r, hp, hc, 60_000), ...parseHttpClientConfig(r, hp, hc) };
  });
}

const DNS_TYPES: readonly DnsRecordType[] = ['SRV', 'A', 'AAAA', 'MX', 'NS'];

/** `dns_sd_configs`: `names`, `type` (SRV by default), `port` (required unless SRV); refresh every 30 s by default. */
export function parseDnsSdConfigs(r: SdReader, p: FieldPath, raw: unknown, servers: readonly string[]): DnsSdConfig[] {
  return r.list(p, raw).map((d, j): DnsSdConfig => {
    const dp = [...p, j];
    const dc = r.mapping(dp, d, ['names', 'type', 'port', 'refresh_interval']);
    const names = r.list([...dp, 'names'], dc['names']).map((n, k) => r.string([...dp, 'names', k], n));
    if (names.length === 0) r.fail([...dp, 'names'], 'DNS-SD config must contain at least one SRV record name');
    const typeText = has(dc, 'type') ? r.string([...dp, 'type'], dc['type']).toUpperCase() : 'SRV';
    const type = DNS_TYPES.find((t) => t === typeText);
    if (type === undefined) r.fail([...dp, 'type'], `invalid DNS-SD records type ${JSON.stringify(typeText)}: expected one of ${DNS_TYPES.join(', ')}`);
    const port = has(dc, 'port') ? r.uint([...dp, 'port'], dc['port']) : 0;
    if (port > 65535) r.fail([...dp, 'port'], `port ${port} is out of range`);
    if (type !== 'SRV' && port === 0) r.fail([...dp, 'port'], 'a port is required in DNS-SD configs for all record types except SRV');
    return { names, type, port, refreshIntervalMs: refresh(r, dp, dc, 30_000), servers };
  });
}
