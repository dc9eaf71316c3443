import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { labelsFrom } from '../../core/model/labels.js';
import { compileRelabel, relabel } from '../relabel/relabel.js';
import { parseGlobalConfig, parseScrapeConfigs, ScrapeConfigError, type ScrapeConfig } from './config.js';

const ADDRESSES = Array.from({ length: 40 }, (_, i) => `10.0.${i % 7}.${i}:9100`);

function jobs(text: string): ScrapeConfig[] {
  const doc = parse(text) as { global?: unknown; scrape_configs?: unknown };
  return parseScrapeConfigs(doc.scrape_configs, parseGlobalConfig(doc.global), '/');
}

/** The addresses a job's relabel rules keep. */
function kept(job: ScrapeConfig): string[] {
  const rules = compileRelabel(job.relabelConfigs);
  return ADDRESSES.filter((a) => relabel(labelsFrom({ __address__: a, job: job.jobName }), rules) !== undefined);
}

const targets = `static_configs: [{ targets: [${ADDRESSES.map((a) => `'${a}'`).join(', ')}] }]`;

test('shard: every target is kept by exactly one of the shards, as the hand-written hashmod rules keep it', () => {
  const total = 3;
  const seen = new Map<string, number>();
  for (let index = 0; index < total; index++) {
    const [short] = jobs(`scrape_configs: [{ job_name: node, shard: { index: ${index}, total: ${total} }, ${targets} }]`);
    const [byHand] = jobs(`
scrape_configs:
  - job_name: node
    ${targets}
    relabel_configs:
      - { source_labels: [__address__], modulus: ${total}, target_label: __tmp_hashmod, action: hashmod }
      - { source_labels: [__tmp_hashmod], regex: '${index}', action: keep }
`);
    const mine = kept(short!);
    assert.deepEqual(mine, kept(byHand!));
    assert.ok(mine.length > 0 && mine.length < ADDRESSES.length, `shard ${index} keeps ${mine.length} of ${ADDRESSES.length}`);
    for (const a of mine) seen.set(a, (seen.get(a) ?? 0) + 1);
  }
  assert.equal(seen.size, ADDRESSES.length);
  assert.ok([...seen.values()].every((n) => n === 1));
});

test('shard: global applies to every job, a job overrides it, and the rules run after the job’s own', () => {
  const [a, b] = jobs(`
global: { shard: { index: 1, total: 2 } }
scrape_configs:
  - { job_name: a, ${targets}, relabel_configs: [{ source_labels: [__address__], regex: '10\\.0\\.0\\..*', action: drop }] }
  - { job_name: b, shard: { index: 0, total: 2 }, ${targets} }
`);
  const keptA = kept(a!);
  const keptB = kept(b!);
  assert.ok(keptA.every((x) => !x.startsWith('10.0.0.')));
  assert.equal(a!.relabelConfigs.at(-1)!.action, 'keep');
  assert.equal(a!.relabelConfigs.at(-2)!.action, 'hashmod');
  // Shards 1 and 0 of the same addresses do not overlap.
  assert.ok(keptA.every((x) => !keptB.includes(x)));
});

test('shard: mistakes name the field', () => {
  const bad: Array<[string, RegExp]> = [
    [`{ index: 2, total: 2 }`, /shard\.index: index 2 is not below total 2/],
    [`{ index: 0, total: 0 }`, /shard\.total: expected a whole number >= 1/],
    [`{ index: -1, total: 2 }`, /shard\.index: expected a whole number >= 0/],
    [`{ index: 0 }`, /shard\.total: expected a whole number >= 1, got nothing/],
    [`{ index: 0, total: 2, of: 3 }`, /shard\.of: field of not found/],
    [`3`, /shard: expected a mapping/],
  ];
  for (const [shard, re] of bad) {
    assert.throws(
      () => jobs(`scrape_configs: [{ job_name: a, shard: ${shard} }]`),
      (err: unknown) => err instanceof ScrapeConfigError && re.test(err.message),
      shard,
    );
  }
  assert.throws(() => jobs(`global: { shard: { index: 5, total: 2 } }`), /global\.shard\.index/);
});
