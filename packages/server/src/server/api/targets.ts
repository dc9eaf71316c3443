/**
 * `/api/v1/targets`, `/api/v1/scrape_pools` and `/api/v1/targets/metadata`, in Prometheus' JSON shapes, so Grafana and
 * the Prometheus UI's targets page read them unchanged.
 */
import { labelsToRecord } from '../../core/model/labels.js';
import type { Matcher } from '../../core/model/matcher.js';
import { formatDuration } from '../../core/time/duration.js';
import { parseSeriesSelector } from '../../metrics/promql/parser/index.js';
import type { ScrapeManager } from '../../metrics/scrape/manager.js';
import { globalUrl } from '../../metrics/scrape/target.js';
import { ApiError } from './errors.js';
import { json, type Router } from './http.js';

/** One active target, as Prometheus' API prints it. */
export interface ActiveTargetJson {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval: string;
  scrapeTimeout: string;
}

/** Go's zero time, which Prometheus prints for a target never scraped. */
const NEVER = '0001-01-01T00:00:00Z';

/** Registers the targets endpoints. */
export function registerTargetsApi(router: Router, manager: ScrapeManager): void {
  router.on(['GET', 'POST'], '/api/v1/targets', (req) => {
    const state = (req.query.get('state') ?? '').toLowerCase();
    const pool = req.query.get('scrapePool') ?? '';
    const showActive = state === '' || state === 'any' || state === 'active';
    const showDropped = state === '' || state === 'any' || state === 'dropped';
    const activeTargets: ActiveTargetJson[] = [];
    if (showActive) {
      for (const { scrapePool, target, loop } of manager.activeTargets()) {
        if (pool !== '' && scrapePool !== pool) continue;
        activeTargets.push({
          discoveredLabels: labelsToRecord(target.discoveredLabels),
          labels: labelsToRecord(target.labels),
          scrapePool,
          scrapeUrl: target.url,
          globalUrl: globalUrl(target.url),
          lastError: loop.lastError,
          lastScrape: loop.lastScrape === 0 ? NEVER : new Date(loop.lastScrape).toISOString(),
          lastScrapeDuration: loop.lastScrapeDurationMs / 1000,
          health: loop.health,
          scrapeInterval: formatDuration(target.intervalMs),
          scrapeTimeout: formatDuration(target.timeoutMs),
        });
      }
    }
    const droppedTargets: Array<{ discoveredLabels: Record<string, string> }> = [];
    const droppedTargetCounts: Record<string, number> = {};
    for (const p of manager.scrapePools()) if (pool === '' || p === pool) droppedTargetCounts[p] = 0;
    for (const d of manager.droppedTargets()) {
      if (pool !== '' && d.scrapePool !== pool) continue;
      droppedTargetCounts[d.scrapePool] = (droppedTargetCounts[d.scrapePool] ?? 0) + 1;
      if (showDropped) droppedTargets.push({ discoveredLabels: labelsToRecord(d.discoveredLabels) });
    }
    return json({ activeTargets, droppedTargets, droppedTargetCounts });
  });

  // The jobs, by name, as Prometheus lists them (its UI fills the targets page's pool filter from this).
  router.on('GET', '/api/v1/scrape_pools', () => json({ scrapePools: manager.scrapePools() }));

  router.on(['GET', 'POST'], '/api/v1/targets/metadata', (req) => {
    const q = req.query;
    let limit = -1;
    const rawLimit = q.get('limit');
    if (rawLimit !== null && rawLimit !== '') {
      limit = Number(rawLimit);
      if (!Number.isInteger(limit)) throw new ApiError('bad_data', `invalid parameter "limit": ${JSON.stringify(rawLimit)} is not an integer`);
    }
    let matchers: Matcher[] = [];
    const mt = q.get('match_target');
    if (mt !== null && mt !== '') {
      try {
        matchers = parseSeriesSelector(mt);
      } catch (err) {
        throw new ApiError('bad_data', `invalid parameter "match_target": ${(err as Error).message}`);
      }
    }
    const metric = q.get('metric') ?? '';
    const out: Array<{ target: Record<string, string>; metric?: string; type: string; help: string; unit: string }> = [];
    outer: for (const t of manager.targetMetadata()) {
      if (limit >= 0 && out.length >= limit) break;
      const rec = labelsToRecord(t.labels);
      if (!matchers.every((m) => m.matches(rec[m.name] ?? ''))) continue;
      if (metric !== '') {
        const md = t.metadata.get(metric);
        if (md) out.push({ target: rec, type: md.type, help: md.help, unit: md.unit });
        continue;
      }
      for (const [family, md] of t.metadata.list()) {
        if (limit >= 0 && out.length >= limit) break outer;
        out.push({ target: rec, metric: family, type: md.type, help: md.help, unit: md.unit });
      }
    }
    if (out.length === 0 && limit !== 0) throw new ApiError('not_found', 'specified metadata not found');
    return json(out);
  });
}
