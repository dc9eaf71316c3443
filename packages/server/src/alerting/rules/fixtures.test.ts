import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { checkRules, testRules } from '../../server/cmd/rulescli.js';
import { captureOutput, promtoolTestdata } from '../../testkit/rules.js';

const { dir, skip } = promtoolTestdata();

// The expected outcome of each fixture, from the fixtures' README.
const CASES: { file: string; run?: string[]; code: number; mentions?: string[] }[] = [
  { file: 'unittest.yml', code: 0 },
  { file: 'long-period.yml', code: 0 },
  { file: 'no-test-group-interval.yml', code: 0 },
  { file: 'start-time-test.yml', code: 0 },
  { file: 'at-modifier-test.yml', code: 0 },
  { file: 'negative-offset-test.yml', code: 0 },
  { file: 'rules_run.yml', run: ['correct test'], code: 0 },
  { file: 'rules_run_fuzzy.yml', run: ['correct'], code: 0 },
  { file: 'bad-input-series.yml', code: 1, mentions: ['name: #0', 'parse error'] },
  { file: 'bad-promql.yml', code: 1, mentions: ['expr: "join_1 + on(a) join_2"', 'many-to-many matching not allowed'] },
  { file: 'bad-rules-syntax-test.yml', code: 1, mentions: ['bad-rules-syntax.yml: 7:15: group "bad-syntax", rule 1, "x": could not parse expression'] },
  { file: 'bad-rules-error-test.yml', code: 1, mentions: ['rule: joined, time: 0s, err: found duplicate series'] },
  {
    file: 'failing.yml',
    code: 1,
    mentions: [
      'name: Failing test',
      'expr: "test", time: 0s,\n        exp: {__name__="test"} 1E+00\n        got: {__name__="test"} 0E+00',
      'name: Failing alert test',
      'alertname: InstanceDown, time: 5m',
    ],
  },
  { file: 'rules_run.yml', code: 1, mentions: ['name: wrong test'] },
  { file: 'rules_run_no_fuzzy.yml', code: 1, mentions: ['got: {__name__="test_low"} 2.9999999999999996E+00'] },
  { file: 'rules_run_fuzzy.yml', code: 1, mentions: ['name: wrong fuzzy match', '2.9999999999999987E+00'] },
];

describe('promtool fixtures, read in place from the shared test data', { skip }, () => {
  for (const c of CASES) {
    test(`test rules ${c.file}${c.run ? ` --run ${c.run.join(',')}` : ''} exits ${c.code}`, async () => {
      const out = captureOutput();
      const code = await testRules([join(dir, c.file)], c.run ? { run: c.run } : {}, out);
      assert.equal(code, c.code, out.stdout + out.stderr);
      if (c.code === 0) assert.match(out.stdout, /SUCCESS/);
      for (const m of c.mentions ?? []) assert.ok(out.stderr.includes(m), `missing ${JSON.stringify(m)} in:\n${out.stderr}`);
    });
  }

  test('check rules: valid, bad and duplicate rule files', async () => {
    let out = captureOutput();
    assert.equal(await checkRules([join(dir, 'rules.yml')], out), 0);
    assert.match(out.stdout, /SUCCESS: 5 rules found/);

    out = captureOutput();
    assert.equal(await checkRules([join(dir, 'rules-bad.yml')], out), 1);
    assert.match(
      out.stderr,
      /rules-bad\.yml: 12:20: group "alerts", rule 1, "InstanceDown": annotation "summary": template: __alert_InstanceDown:1: undefined variable "\$label"/,
    );

    out = captureOutput();
    assert.equal(await checkRules([join(dir, 'rules_duplicates.yml')], out), 0);
    assert.match(out.stderr, /lint error 1 duplicate rule\(s\) found\.\nMetric: job:test:count_over_time1m\nLabel\(s\):\nMight cause inconsistency/);

    out = captureOutput();
    assert.equal(await checkRules([join(dir, 'missing.yml')], out), 1);
    assert.match(out.stderr, /no such file or directory/);
  });

  test('check rules: the large rule file loads in reasonable time', async () => {
    const out = captureOutput();
    const t0 = performance.now();
    assert.equal(await checkRules([join(dir, 'rules_large.yml')], out), 0);
    assert.ok(performance.now() - t0 < 15_000);
    assert.match(out.stderr, /lint error 2 duplicate rule\(s\) found/);
  });
});
