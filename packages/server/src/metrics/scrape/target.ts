/**
 * Target label building, as Prometheus 2.42's `PopulateLabels` (`scrape/target.go`): discovered
 * labels plus the scrape config's defaults, then `relabel_configs`, then a default port, checks,
 * `__meta_*` removal and `instance`. Targets dropped by relabeling are kept for the targets API.
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import { labelsFrom, labelsKey, type Label, type Labels } from '../../core/model/labels.js';
import { formatDuration, parseDuration } from '../../core/time/duration.js';
import { relabel, type CompiledRelabel } from '../relabel/relabel.js';
import type { ScrapeConfig, TargetGroup } from './config.js';

/** Prometheus' reserved target labels. */
export const ADDRESS_LABEL = '__address__';
export const SCHEME_LABEL = '__scheme__';
export const METRICS_PATH_LABEL = '__metrics_path__';
export const SCRAPE_INTERVAL_LABEL = '__scrape_interval__';
export const SCRAPE_TIMEOUT_LABEL = '__scrape_timeout__';
export const PARAM_LABEL_PREFIX = '__param_';
export const META_LABEL_PREFIX = '__meta_';

/** A target to scrape. */
export interface Target {
  /** Identity: equal for two targets exactly when they scrape the same way with the same labels. */
  readonly key: string;
  /** The labels before relabeling (for the API's `discoveredLabels`). */
  readonly discoveredLabels: Labels;
  /** After relabeling, including `__`-prefixed labels other than `__meta_*`. */
  readonly internalLabels: Labels;
  /** What is attached to every sample: `internalLabels` without `__`-prefixed names. */
  readonly labels: Labels;
  /** The scrape URL as Prometheus prints it (a default port stays visible). */
  readonly url: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Stable 32-bit hash of `key`, for the scrape offset. */
  readonly hash: number;
}

/** What relabeling dropped, or a target that could not be built. */
export interface DroppedTarget {
  readonly discoveredLabels: Labels;
  /** Why it was not scraped, when it was not relabeling (e.g. an invalid address). */
  readonly error?: string;
}

/** The config fields target building needs, with relabel rules compiled. */
export type TargetConfig = Pick<ScrapeConfig, 'jobName' | 'scrapeIntervalMs' | 'scrapeTimeoutMs' | 'metricsPath' | 'scheme' | 'params'> & {
  readonly relabel: readonly CompiledRelabel[];
};

function get(ls: Labels, name: string): string {
  for (const l of ls) if (l.name === name) return l.value;
  return '';
}

/**
 * Builds the target for one discovered label set (`target` labels win over the group's). Returns
 * a {@link Target}, or a {@link DroppedTarget} when relabeling dropped it or it is invalid.
 */
export function populateTarget(
  group: Readonly<Record<string, string>>,
  target: Readonly<Record<string, string>>,
  cfg: TargetConfig,
): { target: Target } | { dropped: DroppedTarget } {
  const rec: Record<string, string> = { ...group, ...target };
  const defaults: Array<[string, string]> = [
    ['job', cfg.jobName],
    [SCRAPE_INTERVAL_LABEL, formatDuration(cfg.scrapeIntervalMs)],
    [SCRAPE_TIMEOUT_LABEL, formatDuration(cfg.scrapeTimeoutMs)],
    [METRICS_PATH_LABEL, cfg.metricsPath],
    [SCHEME_LABEL, cfg.scheme],
  ];
  for (const [k, v] of defaults) if (!rec[k]) rec[k] = v;
  for (const [k, vs] of Object.entries(cfg.params)) if (vs.length > 0 && !rec[PARAM_LABEL_PREFIX + k]) rec[PARAM_LABEL_PREFIX + k] = vs[0]!;
  for (const k of Object.keys(rec)) if (rec[k] === '') delete rec[k];
  const discoveredLabels = labelsFrom(rec);

  const relabeled = relabel(discoveredLabels, cfg.relabel);
  if (relabeled === undefined) return { dropped: { discoveredLabels } };
  const drop = (error: string): { dropped: DroppedTarget } => ({ dropped: { discoveredLabels, error } });

  let addr = get(relabeled, ADDRESS_LABEL);
  if (addr === '') return drop('no address');
  const scheme = get(relabeled, SCHEME_LABEL);
  if (needsPort(addr)) addr += scheme === 'https' ? ':443' : ':80';
  if (addr.includes('/')) return drop(`${JSON.stringify(addr)} is not a valid hostname`);

  let intervalMs: number;
  let timeoutMs: number;
  try {
    intervalMs = parseDuration(get(relabeled, SCRAPE_INTERVAL_LABEL));
  } catch (err) {
    return drop(`error parsing scrape interval: ${(err as Error).message}`);
  }
  try {
    timeoutMs = parseDuration(get(relabeled, SCRAPE_TIMEOUT_LABEL));
  } catch (err) {
    return drop(`error parsing scrape timeout: ${(err as Error).message}`);
  }
  if (intervalMs === 0) return drop('scrape interval cannot be 0');
  if (timeoutMs === 0) return drop('scrape timeout cannot be 0');
  if (timeoutMs > intervalMs)
    return drop(`scrape timeout cannot be greater than scrape interval (${formatDuration(timeoutMs)} > ${formatDuration(intervalMs)})`);

  const internal: Label[] = [];
  let hasInstance = false;
  for (const l of relabeled) {
    if (l.name.startsWith(META_LABEL_PREFIX)) continue;
    if (l.name === 'instance') hasInstance = true;
    internal.push(l.name === ADDRESS_LABEL ? { name: l.name, value: addr } : l);
  }
  if (!hasInstance) internal.push({ name: 'instance', value: addr });
  internal.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  let url: string;
  try {
    url = targetUrl(internal, cfg.params);
  } catch (err) {
    return drop(`invalid target URL: ${(err as Error).message}`);
  }
  const key = labelsKey(internal) + '\x00' + url;
  return {
    target: {
      key,
      discoveredLabels,
      internalLabels: internal,
      labels: internal.filter((l) => !l.name.startsWith('__')),
      url,
      intervalMs,
      timeoutMs,
      hash: createHash('sha256').update(key).digest().readUInt32BE(0),
    },
  };
}

/** True for `host` or `[v6]` without a port, which Prometheus 2 completes from the scheme. */
function needsPort(addr: string): boolean {
  if (addr.startsWith('[')) return /^\[[^\]]*\]$/.test(addr);
  const colons = addr.split(':').length - 1;
  // A bare IPv6 address (several colons, no brackets) is left alone, as Prometheus does.
  return colons === 0 && addr !== '';
}

/** The scrape URL: scheme, address and path from the labels, config params overridden by `__param_*`. */
export function targetUrl(labels: Labels, params: Readonly<Record<string, readonly string[]>>): string {
  const merged = new Map<string, string[]>(Object.entries(params).map(([k, v]) => [k, [...v]]));
  for (const l of labels) {
    if (!l.name.startsWith(PARAM_LABEL_PREFIX)) continue;
    const k = l.name.slice(PARAM_LABEL_PREFIX.length);
    const vs = merged.get(k);
    if (vs && vs.length > 0) vs[0] = l.value;
    else merged.set(k, [l.value]);
  }
  const base = `${get(labels, SCHEME_LABEL) || 'http'}://${get(labels, ADDRESS_LABEL)}`;
  const p = get(labels, METRICS_PATH_LABEL);
  // Parsing checks the address; the printed form is built by hand because URL drops a default port.
  const parsed = new URL(base);
  parsed.pathname = p.startsWith('/') ? p : `/${p}`;
  // Go's url.Values.Encode sorts by key.
  const search = new URLSearchParams();
  for (const k of [...merged.keys()].sort()) for (const v of merged.get(k)!) search.append(k, v);
  const q = search.toString();
  return `${base}${parsed.pathname}${q ? `?${q}` : ''}`;
}

/** Builds every target of a set of groups; targets are deduplicated by key, as Prometheus does. */
export function buildTargets(groups: readonly TargetGroup[], cfg: TargetConfig): { active: Target[]; dropped: DroppedTarget[] } {
  const active = new Map<string, Target>();
  const dropped: DroppedTarget[] = [];
  for (const g of groups) {
    for (const t of g.targets) {
      const r = populateTarget(g.labels, t, cfg);
      if ('target' in r) {
        if (!active.has(r.target.key)) active.set(r.target.key, r.target);
      } else dropped.push(r.dropped);
    }
  }
  return { active: [...active.values()], dropped };
}

const LOCALHOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The URL with a loopback host replaced by this machine's hostname, as Prometheus' `globalUrl`. */
export function globalUrl(url: string): string {
  const u = new URL(url);
  if (!LOCALHOSTS.has(u.hostname)) return url;
  return url.replace(u.hostname, os.hostname());
}
