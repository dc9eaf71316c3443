import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../../testkit/helpers.js';
import type { TargetGroup } from './config.js';
import { CombinedDiscoverer, expandGlob, FileDiscoverer, StaticDiscoverer } from './discovery.js';

function addresses(groups: readonly TargetGroup[]): string[] {
  return groups.flatMap((g) => g.targets.map((t) => t['__address__']!));
}

test('file_sd reads JSON and YAML by glob, follows changes and keeps the last good targets of a broken file', async () => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify([{ targets: ['a:1'], labels: { env: 'prod' } }]));
    fs.writeFileSync(path.join(dir, 'b.yml'), '- targets: [b:1, b:2]\n');
    fs.writeFileSync(path.join(dir, 'ignored.txt'), 'x');
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m), child: () => logger };
    const d = new FileDiscoverer({ files: [path.join(dir, '*.json'), path.join(dir, '*.yml')], refreshIntervalMs: 60_000 }, { logger, debounceMs: 10 });
    const updates: Array<readonly TargetGroup[]> = [];
    d.start((g) => updates.push(g));
    assert.deepEqual(addresses(updates.at(-1)!), ['a:1', 'b:1', 'b:2']);
    assert.equal(updates.at(-1)![0]!.labels['__meta_filepath'], path.join(dir, 'a.json'));
    assert.equal(updates.at(-1)![0]!.labels['env'], 'prod');

    // A change is seen through fs.watch (bounded wait), without calling refresh().
    fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify([{ targets: ['a:1', 'a:2'] }]));
    const deadline = Date.now() + 5000;
    while (!addresses(updates.at(-1)!).includes('a:2')) {
      if (Date.now() > deadline) {
        d.refresh(); // a filesystem without watch events still converges through refresh_interval
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(addresses(updates.at(-1)!), ['a:1', 'a:2', 'b:1', 'b:2']);

    // A broken file keeps its last good groups and logs.
    fs.writeFileSync(path.join(dir, 'b.yml'), '- targets: [b:1\n');
    d.refresh();
    assert.deepEqual(addresses(updates.at(-1)!), ['a:1', 'a:2', 'b:1', 'b:2']);
    assert.ok(errors.length > 0 && d.readErrors > 0);

    // A removed file removes its targets.
    fs.rmSync(path.join(dir, 'a.json'));
    d.refresh();
    assert.deepEqual(addresses(updates.at(-1)!), ['b:1', 'b:2']);
    d.stop();
    d.stop();
  } finally {
    cleanup();
  }
});

test('invalid target groups in a file are reported with the file name', () => {
  const { dir, cleanup } = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'x.json'), JSON.stringify([{ targets: ['a:1'], labels: { 'bad-name': 'x' } }]));
    const errs: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (_m: string, f?: Record<string, unknown>) => void errs.push(f?.['err']), child: () => logger };
    const d = new FileDiscoverer({ files: [path.join(dir, 'x.json')], refreshIntervalMs: 60_000 }, { logger });
    let got: readonly TargetGroup[] | undefined;
    d.start((g) => (got = g));
    d.stop();
    assert.deepEqual(got, [], 'nothing valid was ever read');
    assert.match(String(errs[0]), /x\.json: \[0\]\.labels\.bad-name: "bad-name" is not a valid label name/);
  } finally {
    cleanup();
  }
});

test('expandGlob and the combined discoverer', () => {
  assert.deepEqual(expandGlob('/nonexistent/dir/*.json'), []);
  const c = new CombinedDiscoverer([
    new StaticDiscoverer([{ source: '0', targets: [{ __address__: 's:1' }], labels: {} }]),
    new StaticDiscoverer([{ source: '1', targets: [{ __address__: 's:2' }], labels: {} }]),
  ]);
  const seen: string[][] = [];
  c.start((g) => seen.push(addresses(g)));
  assert.deepEqual(seen, [['s:1', 's:2']]);
  c.stop();
});
