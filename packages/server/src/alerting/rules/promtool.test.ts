// Differential check: `vigil test rules` and Debian's `promtool test rules` (2.42) agree on
// pass/fail for the shared fixtures and for this package's own rule tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { checkRules, testRules } from '../../server/cmd/rulescli.js';
import { captureOutput, ownTestdata, promtoolTestdata } from '../../testkit/rules.js';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
const skip = hasPromtool ? false : 'promtool is not installed (scripts/ensure-peers.sh installs it)';
const shared = promtoolTestdata();

function promtool(args: string[], file: string): number {
  const r = spawnSync('promtool', [...args, basename(file)], { cwd: dirname(file), encoding: 'utf8', timeout: 120_000 });
  return r.status ?? -1;
}

/**
 * Fixtures written for Prometheus 3.x that promtool 2.42 cannot read the same way; they are not
 * compared (Vigil's outcome for them is checked against the README in fixtures.test.ts).
 */
const NEWER_THAN_PEER: Record<string, string> = {
  'unittest.yml': 'native-histogram `histogram:` samples (promtool 2.42: field histogram not found)',
  'start-time-test.yml': '`start_timestamp` (added after 2.42)',
  'rules_run_fuzzy.yml': '`fuzzy_compare` (added after 2.42)',
  'rules_run_no_fuzzy.yml': '`fuzzy_compare` (added after 2.42)',
  'no-test-group-interval.yml': 'test groups default to evaluation_interval only since 3.x',
};

const FIXTURES = [
  'long-period.yml',
  'at-modifier-test.yml',
  'negative-offset-test.yml',
  'bad-input-series.yml',
  'bad-promql.yml',
  'bad-rules-syntax-test.yml',
  'bad-rules-error-test.yml',
  'failing.yml',
  'rules_run.yml',
];

async function vigil(file: string): Promise<number> {
  return testRules([file], {}, captureOutput());
}

for (const f of FIXTURES) {
  test(`promtool and vigil agree on ${f}`, { skip: skip || shared.skip }, async () => {
    const file = join(shared.dir, f);
    assert.equal(await vigil(file), promtool(['test', 'rules'], file));
  });
}

test('fixtures newer than the promtool peer are listed with a reason', () => {
  for (const [f, why] of Object.entries(NEWER_THAN_PEER)) assert.ok(why.length > 0 && !FIXTURES.includes(f));
});

for (const f of ['rules.yml', 'rules-bad.yml', 'bad-rules-syntax.yml', 'rules_duplicates.yml']) {
  test(`promtool and vigil agree on check rules ${f}`, { skip: skip || shared.skip }, async () => {
    const file = join(shared.dir, f);
    assert.equal(await checkRules([file], captureOutput()), promtool(['check', 'rules'], file));
  });
}

/** Own rule tests, plus variants with a wrong expectation that both must fail. */
test('promtool and vigil agree on own rule tests and their broken variants', { skip }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vigil-ruletest-'));
  try {
    const own = ownTestdata();
    for (const f of ['shop-rules.yml', 'shop-rules.test.yml', 'templates-rules.yml', 'templates-rules.test.yml']) copyFileSync(join(own, f), join(tmp, f));
    const variants: Record<string, { from: string; edit: (s: string) => string; expect: number }> = {
      'shop-ok.yml': { from: 'shop-rules.test.yml', edit: (s) => s, expect: 0 },
      'templates-ok.yml': { from: 'templates-rules.test.yml', edit: (s) => s, expect: 0 },
      // The pool alert fires one evaluation later than this expects.
      'shop-early.yml': {
        from: 'shop-rules.test.yml',
        edit: (s) =>
          s.replace('- eval_time: 4m\n        alertname: DatabasePoolNearExhaustion', '- eval_time: 3m\n        alertname: DatabasePoolNearExhaustion'),
        expect: 1,
      },
      // A description rendered differently.
      'shop-annotation.yml': { from: 'shop-rules.test.yml', edit: (s) => s.replace('166.7m requests', '0.1667 requests'), expect: 1 },
      'templates-printf.yml': { from: 'templates-rules.test.yml', edit: (s) => s.replace("a: '0.00|42|s|", "a: '0|42|s|"), expect: 1 },
      // keep_firing_for keeps the alert firing until 2m after the condition clears (up is 1 from 4m).
      'templates-keepfiring.yml': {
        from: 'templates-rules.test.yml',
        edit: (s) =>
          s.replace(
            '- eval_time: 7m\n        alertname: Templated\n        exp_alerts: []',
            '- eval_time: 5m\n        alertname: Templated\n        exp_alerts: []',
          ),
        expect: 1,
      },
      'templates-keepfiring-ends.yml': {
        from: 'templates-rules.test.yml',
        edit: (s) =>
          s.replace(
            '- eval_time: 7m\n        alertname: Templated\n        exp_alerts: []',
            '- eval_time: 6m\n        alertname: Templated\n        exp_alerts: []',
          ),
        expect: 0,
      },
      'shop-wrong-sample.yml': {
        from: 'shop-rules.test.yml',
        edit: (s) => s.replace('alertstate="pending",service', 'alertstate="firing",service'),
        expect: 1,
      },
    };
    for (const [name, v] of Object.entries(variants)) {
      const text = v.edit(readFileSync(join(tmp, v.from), 'utf8'));
      if (v.expect === 1) assert.notEqual(text, readFileSync(join(tmp, v.from), 'utf8'), `${name}: the edit changed nothing`);
      writeFileSync(join(tmp, name), text);
      const file = join(tmp, name);
      const p = promtool(['test', 'rules'], file);
      const ours = await vigil(file);
      assert.equal(ours, p, `${name}: vigil ${ours}, promtool ${p}`);
      assert.equal(ours, v.expect, name);
    }
    assert.equal(await checkRules([join(tmp, 'shop-rules.yml')], captureOutput()), promtool(['check', 'rules'], join(tmp, 'shop-rules.yml')));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
