/**
 * `shard: {index: I, total: N}`, in `global:` or a scrape job: splits the targets among N scrapers
 * (agents, usually) so that each target is scraped by exactly one. It stands for the two relabel
 * rules Prometheus users write by hand for this (hashmod of `__address__` modulo N into a temporary
 * label, then keep the targets whose hash is I), and is turned into those very rules, so the split
 * is the one a Prometheus or vmagent with the same rules would make.
 */
import { parseRelabelConfigs, type RelabelConfig } from '../relabel/relabel.js';
import type { ConfigPath } from './config.js';

/** Which of `total` scrapers this one is (0-based `index`). */
export interface ScrapeShard {
  readonly index: number;
  readonly total: number;
}

/** The label the hash goes into; `__tmp_` labels are Prometheus' convention for relabeling scratch. */
export const SHARD_HASH_LABEL = '__tmp_hashmod';

/** Reads a `shard:` mapping at `p`; `fail` reports a mistake against a field. */
export function parseShard(p: ConfigPath, raw: unknown, fail: (p: ConfigPath, detail: string) => never): ScrapeShard | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) fail(p, 'expected a mapping {index: I, total: N}');
  const rec = raw as Record<string, unknown>;
  for (const k of Object.keys(rec)) if (k !== 'index' && k !== 'total') fail([...p, k], `field ${k} not found; expected index and total`);
  const whole = (k: string, min: number): number => {
    const v = rec[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
      fail([...p, k], `expected a whole number >= ${min}, got ${JSON.stringify(v) ?? 'nothing'}`);
    return v;
  };
  const total = whole('total', 1);
  const index = whole('index', 0);
  if (index >= total) fail([...p, 'index'], `index ${index} is not below total ${total}: shards are numbered 0 to ${total - 1}`);
  return { index, total };
}

/**
 * The relabel rules `shard` stands for, written as a user would write them in `relabel_configs`
 * (and read by the same parser). They go after the job's own rules, so the hash is of the address
 * that is actually scraped.
 */
export function shardRelabelRules(shard: ScrapeShard): RelabelConfig[] {
  return parseRelabelConfigs(
    [
      { source_labels: ['__address__'], modulus: shard.total, target_label: SHARD_HASH_LABEL, action: 'hashmod' },
      { source_labels: [SHARD_HASH_LABEL], regex: String(shard.index), action: 'keep' },
    ],
    'shard',
  );
}
