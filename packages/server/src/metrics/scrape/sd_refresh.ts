/**
 * The discoverers that poll a remote source (`http_sd_configs`, `dns_sd_configs`), as Prometheus'
 * `discovery/refresh` runs them: one refresh at start, then one every `refresh_interval`; a refresh
 * that fails keeps the last good targets (a flaky endpoint or DNS server never empties a job).
 */
import * as dns from 'node:dns';
import { HttpClient } from '../../core/httpclient/client.js';
import type { Logger } from '../../core/util/log.js';
import { nopLogger } from '../../core/util/log.js';
import { formatPath, parseTargetGroup, ScrapeConfigError, type TargetGroup } from './config.js';
import type { Discoverer, DiscovererOptions, GroupsListener, SdMechanism } from './discovery.js';
import type { DnsSdConfig, HttpSdConfig } from './sd_config.js';

/** Polls `load()` every `intervalMs`; a rejected load keeps the last groups. At most one load runs at a time. */
abstract class RefreshDiscoverer implements Discoverer {
  protected readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private listener: GroupsListener | undefined;
  private running: Promise<void> | undefined;
  private lastEmitted: string | undefined;
  protected abort = new AbortController();
  private readonly onFailure: ((m: SdMechanism) => void) | undefined;
  /** Failures since start (failed refreshes; for DNS, failed lookups), for tests. */
  failures = 0;

  constructor(
    private readonly mechanism: SdMechanism,
    private readonly intervalMs: number,
    opts: DiscovererOptions,
  ) {
    this.log = opts.logger ?? nopLogger;
    this.onFailure = opts.onFailure;
  }

  /** Counts `n` failures, here and on /metrics. */
  protected failed(n = 1): void {
    this.failures += n;
    for (let i = 0; i < n; i++) this.onFailure?.(this.mechanism);
  }

  /** The complete current groups; throws to keep the last ones. */
  protected abstract load(signal: AbortSignal): Promise<TargetGroup[]>;
  protected abstract describeFailure(err: unknown): Record<string, unknown>;

  start(onUpdate: GroupsListener): void {
    if (this.listener) return;
    this.listener = onUpdate;
    this.abort = new AbortController();
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.listener = undefined;
    this.abort.abort();
    this.onStop();
  }

  protected onStop(): void {}

  /** Loads now (or joins the load in flight) and reports the groups if they changed. */
  refresh(): Promise<void> {
    this.running ??= this.loadOnce().finally(() => (this.running = undefined));
    return this.running;
  }

  private async loadOnce(): Promise<void> {
    const signal = this.abort.signal;
    let groups: TargetGroup[];
    try {
      groups = await this.load(signal);
    } catch (err) {
      if (signal.aborted) return;
      this.failed();
      this.log.error('discovery failed; keeping the last good targets', this.describeFailure(err));
      return;
    }
    if (signal.aborted) return;
    const key = JSON.stringify(groups);
    if (key === this.lastEmitted) return;
    this.lastEmitted = key;
    this.listener?.(groups);
  }
}

/** Prometheus' http_sd meta label: the URL the targets came from. */
export const META_URL = '__meta_url';

// Prometheus accepts exactly this content type from an HTTP SD endpoint.
const JSON_CONTENT_TYPE = /^application\/json(;\s*charset=("utf-8"|utf-8))?$/i;

/** Groups from one `http_sd_configs` entry: a GET answering `[{"targets": [...], "labels": {...}}]`. */
export class HttpDiscoverer extends RefreshDiscoverer {
  private readonly client: HttpClient;

  constructor(
    private readonly cfg: HttpSdConfig,
    opts: DiscovererOptions = {},
  ) {
    super('http', cfg.refreshIntervalMs, opts);
    this.client = new HttpClient(cfg);
  }

  protected override onStop(): void {
    this.client.close();
  }

  protected describeFailure(err: unknown): Record<string, unknown> {
    return { url: this.cfg.url, err };
  }

  protected async load(signal: AbortSignal): Promise<TargetGroup[]> {
    const { url } = this.cfg;
    const res = await this.client.request('GET', url, {
      headers: {
        accept: 'application/json',
        'user-agent': 'Vigil/0.1',
        // Prometheus sends this so an endpoint can tell how stale its answer may get.
        'x-prometheus-refresh-interval-seconds': String(this.cfg.refreshIntervalMs / 1000),
      },
      signal,
      timeoutMs: this.cfg.refreshIntervalMs,
    });
    if (res.status !== 200) throw new Error(`server returned HTTP status ${res.status} ${res.statusText}`);
    const ct = (res.headers['content-type'] ?? '').trim();
    if (!JSON_CONTENT_TYPE.test(ct)) throw new Error(`unsupported content type ${JSON.stringify(ct)}`);
    return parseHttpSdBody(url, res.body.toString('utf8'));
  }
}

/** The target groups of an HTTP SD response, each labelled with `__meta_url`; throws with a readable message. */
export function parseHttpSdBody(url: string, text: string): TargetGroup[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid JSON: ${(err as Error).message}`);
  }
  if (raw === null) return [];
  if (!Array.isArray(raw)) throw new Error('expected a JSON list of target groups');
  return raw.map((g: unknown, i) => {
    try {
      const tg = parseTargetGroup([i], g, `${url}:${i}`);
      return { ...tg, labels: { ...tg.labels, [META_URL]: url } };
    } catch (err) {
      if (err instanceof ScrapeConfigError) throw new Error(`${formatPath(err.path)}: ${err.detail}`);
      throw err;
    }
  });
}

// Prometheus' dns_sd meta labels.
const DNS_NAME = '__meta_dns_name';
const SRV_TARGET = '__meta_dns_srv_record_target';
const SRV_PORT = '__meta_dns_srv_record_port';
const MX_TARGET = '__meta_dns_mx_record_target';
const NS_TARGET = '__meta_dns_ns_record_target';

/** Answers meaning "this name has no such records", which empty its targets rather than keep them. */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

/** `host:port`, with IPv6 addresses bracketed as Go's `net.JoinHostPort` does. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** DNS answers name hosts fully qualified; Node drops the root dot, Prometheus' labels keep it. */
function rooted(host: string): string {
  return host.endsWith('.') ? host : `${host}.`;
}

/** Groups from one `dns_sd_configs` entry: one group per name; a name whose lookup fails keeps its last targets. */
export class DnsDiscoverer extends RefreshDiscoverer {
  private readonly resolver: dns.promises.Resolver;
  private readonly byName = new Map<string, TargetGroup>();

  constructor(
    private readonly cfg: DnsSdConfig,
    opts: DiscovererOptions = {},
  ) {
    super('dns', cfg.refreshIntervalMs, opts);
    this.resolver = new dns.promises.Resolver({ timeout: 5000, tries: 2 });
    if (cfg.servers.length > 0) this.resolver.setServers([...cfg.servers]);
  }

  protected override onStop(): void {
    this.resolver.cancel();
  }

  protected describeFailure(err: unknown): Record<string, unknown> {
    return { names: this.cfg.names, type: this.cfg.type, err };
  }

  protected async load(): Promise<TargetGroup[]> {
    const errors: string[] = [];
    await Promise.all(
      this.cfg.names.map(async (name) => {
        try {
          // Sorted: servers rotate their answers, which is no change of targets.
          const targets = (await this.lookup(name)).sort((a, b) =>
            a['__address__']! < b['__address__']! ? -1 : a['__address__']! > b['__address__']! ? 1 : 0,
          );
          this.byName.set(name, { source: name, targets, labels: {} });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code ?? '';
          if (NO_RECORDS.has(code)) this.byName.set(name, { source: name, targets: [], labels: {} });
          else errors.push(`${name}: ${(err as Error).message}`);
        }
      }),
    );
    // Names that failed keep their last targets; the others are updated all the same.
    const groups = this.cfg.names.flatMap((n) => this.byName.get(n) ?? []);
    if (errors.length > 0) {
      this.failed(errors.length);
      this.log.error('dns_sd: lookup failed; keeping the last good targets of these names', { type: this.cfg.type, errors });
    }
    return groups;
  }

  private async lookup(name: string): Promise<Array<Record<string, string>>> {
    const t = (address: string, extra: Record<string, string> = {}): Record<string, string> => ({ __address__: address, [DNS_NAME]: name, ...extra });
    const port = this.cfg.port;
    switch (this.cfg.type) {
      case 'SRV':
        return (await this.resolver.resolveSrv(name)).map((r) => t(hostPort(r.name, r.port), { [SRV_TARGET]: rooted(r.name), [SRV_PORT]: String(r.port) }));
      case 'A':
        return (await this.resolver.resolve4(name)).map((ip) => t(hostPort(ip, port)));
      case 'AAAA':
        return (await this.resolver.resolve6(name)).map((ip) => t(hostPort(ip, port)));
      case 'MX':
        return (await this.resolver.resolveMx(name)).map((r) => t(hostPort(r.exchange, port), { [MX_TARGET]: rooted(r.exchange) }));
      case 'NS':
        return (await this.resolver.resolveNs(name)).map((ns) => t(hostPort(ns, port), { [NS_TARGET]: rooted(ns) }));
    }
  }
}
