import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findDuplicateRules, parseRuleFile } from './file.js';
import { globFiles } from '../../core/util/glob.js';
import { groupHash } from './hash.js';
import { xxhash64 } from '../../core/util/xxhash64.js';

function errors(yaml: string): string[] {
  return parseRuleFile(yaml, 'r.yml').errors.map((e) => e.message);
}

test('a valid file: groups, intervals, offsets, limits, labels and both rule kinds', () => {
  const p = parseRuleFile(
    `groups:
  - name: g
    interval: 30s
    query_offset: 1m
    limit: 10
    labels: { team: a }
    rules:
      - record: job:x:sum
        expr: sum by (job) (x)
      - alert: A
        expr: x > 1
        for: 5m
        keep_firing_for: 1m
        labels: { severity: page }
        annotations: { summary: "{{ $labels.job }}" }
`,
    'r.yml',
  );
  assert.deepEqual(p.errors, []);
  const g = p.groups[0]!;
  assert.equal(g.intervalMs, 30_000);
  assert.equal(g.queryOffsetMs, 60_000);
  assert.equal(g.limit, 10);
  assert.deepEqual(g.labels, { team: 'a' });
  assert.equal(g.rules[0]!.kind, 'recording');
  assert.equal(g.rules[1]!.forMs, 300_000);
  assert.equal(g.rules[1]!.keepFiringForMs, 60_000);
  assert.equal(g.rules[1]!.line, 10);
  assert.deepEqual(parseRuleFile('', 'e.yml').groups, []);
});

test('errors name the file, line and column, the group and the rule', () => {
  assert.deepEqual(errors('groups:\n  - name: g\n    rules:\n      - record: x\n        expr: "sum("\n'), [
    'r.yml: 5:15: group "g", rule 1, "x": could not parse expression: 1:5: parse error: unclosed left parenthesis',
  ]);
  assert.deepEqual(errors('groups:\n  - name: g\n    rules:\n      - expr: x\n'), [
    'r.yml: 4:9: group "g", rule 1, "": one of \'record\' or \'alert\' must be set',
  ]);
  assert.deepEqual(errors('groups:\n  - name: g\n    rules:\n      - record: x\n        alert: y\n        expr: x\n'), [
    'r.yml: 4:17: group "g", rule 1, "x": only one of \'record\' and \'alert\' must be set',
  ]);
  assert.deepEqual(errors('groups:\n  - name: g\n    rules:\n      - record: "bad name"\n        expr: x\n        for: 1m\n'), [
    'r.yml: 6:14: group "g", rule 1, "bad name": invalid field \'for\' in recording rule',
    'r.yml: 4:17: group "g", rule 1, "bad name": invalid recording rule name: bad name',
  ]);
  assert.deepEqual(errors('groups:\n  - name: g\n  - name: g\n'), ['r.yml: 3:11: groupname: "g" is repeated in the same file']);
  assert.deepEqual(errors('groups:\n  - rules: []\n'), ['r.yml: 2:5: Groupname must not be empty']);
  assert.match(errors('groups:\n  - name: g\n    interval: 5x\n')[0]!, /^r\.yml: 3:15: group "g": interval: /);
  assert.match(errors('groups:\n  - name: g\n    intervall: 5m\n')[0]!, /r\.yml: 3:5: field intervall not found in type rulefmt\.RuleGroup/);
  assert.match(errors('foo: 1\n')[0]!, /field foo not found in type rulefmt\.RuleGroups/);
  assert.match(errors('groups: [\n')[0]!, /^r\.yml: \d+:\d+: invalid YAML/);
  assert.match(
    errors('groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        annotations:\n          s: "{{ if }}"\n')[0]!,
    /r\.yml: 7:14: group "g", rule 1, "A": annotation "s": template: __alert_A:1: missing value for if/,
  );
  assert.match(errors('groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: x\n        labels: { "a-b": c }\n')[0]!, /invalid label name: a-b/);
});

test('duplicate rules are found across groups, each once', () => {
  const p = parseRuleFile(
    'groups:\n  - name: a\n    rules:\n      - record: r\n        expr: "1"\n      - record: r\n        expr: "2"\n  - name: b\n    rules:\n      - record: r\n        expr: "1"\n      - record: r\n        expr: "1"\n        labels: { x: y }\n',
    'd.yml',
  );
  assert.deepEqual(
    findDuplicateRules(p.groups).map((d) => d.metric),
    ['r'],
  );
});

test('xxhash64 and the group hash', () => {
  assert.equal(xxhash64(new Uint8Array()).toString(16), 'ef46db3751d8e999');
  assert.equal(xxhash64(Buffer.from('abc')).toString(16), '44bc2cf5ad770999');
  assert.equal(typeof groupHash('f.yml', 'g'), 'bigint');
  assert.notEqual(groupHash('f.yml', 'g'), groupHash('f.yml', 'h'));
});

test('rule_files patterns like filepath.Glob, relative to the configuration file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-glob-'));
  for (const f of ['a.yml', 'a.yaml', 'r1x.yml', 'r2.yml']) fs.writeFileSync(path.join(dir, f), '');
  assert.deepEqual(
    globFiles('*.yml', dir),
    ['a.yml', 'r1x.yml', 'r2.yml'].map((f) => path.join(dir, f)),
  );
  assert.deepEqual(globFiles('r[0-9]?.y*', dir), [path.join(dir, 'r1x.yml')]);
  assert.deepEqual(globFiles('/nonexistent/dir/*.yml'), []);
  assert.deepEqual(globFiles('plain.yml', '/base'), ['/base/plain.yml']);
  fs.rmSync(dir, { recursive: true });
});
