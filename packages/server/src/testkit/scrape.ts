/** Helpers for the scrape tests: a tiny HTTP target and reading back what a store holds. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { labelsToRecord } from '../core/model/labels.js';
import { Matcher } from '../core/model/matcher.js';
import { isStaleNaN } from '../core/model/value.js';
import type { Queryable } from '../metrics/storage/interface.js';
import { parseGlobalConfig, parseScrapeConfigs, type ScrapeConfig } from '../metrics/scrape/config.js';

/** A loopback HTTP server running `handler`; `close()` ends it and its connections. */
export async function serve(handler: http.RequestListener): Promise<{ url: string; host: string; close: () => Promise<void> }> {
  const srv = http.createServer(handler);
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

/** One stored series: labels and samples, with staleness markers shown as the string 'stale'. */
export interface StoredSeries {
  labels: Record<string, string>;
  samples: Array<[number, number | 'stale']>;
}

/** Every series whose `__name__` matches `nameRe` (an RE2 pattern), with all samples. */
export function stored(store: Queryable, nameRe: string, extra: Matcher[] = []): StoredSeries[] {
  const q = store.querier(-Infinity, Infinity);
  try {
    const set = q.select({ start: -8e15, end: 8e15 }, [new Matcher('=~', '__name__', nameRe), ...extra]);
    const out: StoredSeries[] = [];
    while (set.next()) {
      const s = set.at();
      const it = s.iterator();
      const samples: Array<[number, number | 'stale']> = [];
      while (it.next()) samples.push([it.t(), isStaleNaN(it.v()) ? 'stale' : it.v()]);
      out.push({ labels: labelsToRecord(s.labels), samples });
    }
    return out;
  } finally {
    q.close();
  }
}

/** Parses one scrape config from a plain object, with global defaults. */
export function scrapeConfig(raw: Record<string, unknown>, global: Record<string, unknown> = {}): ScrapeConfig {
  return parseScrapeConfigs([{ job_name: 'test', ...raw }], parseGlobalConfig(global), process.cwd())[0]!;
}
