import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { captureOutput, ownTestdata, promtoolTestdata, repoRoot } from '../../testkit/rules.js';
import { checkRules, rulesCommand, testRules } from './rulescli.js';

test('rulesCommand parses check/test rules and --run', async () => {
  const out = captureOutput();
  assert.equal(await rulesCommand(['start'], out), undefined);
  assert.equal(await rulesCommand(['check', 'rules'], out), 2);
  assert.equal(await rulesCommand(['test', 'rules', '--run'], out), 2);
  assert.equal(await rulesCommand(['check', 'rules', join(ownTestdata(), 'shop-rules.yml')], out), 0);
  assert.match(out.stdout, /SUCCESS: 4 rules found/);
});

const shared = promtoolTestdata();

describe('with the shared promtool fixtures', { skip: shared.skip }, () => {
  test('test rules --run selects test groups by regex', async () => {
    const rr = join(shared.dir, 'rules_run.yml');
    assert.equal(await rulesCommand(['test', 'rules', '--run', 'correct test', rr], captureOutput()), 0);
    assert.equal(await rulesCommand(['test', 'rules', '--run=correct', rr], captureOutput()), 0);
    assert.equal(await rulesCommand(['test', 'rules', rr], captureOutput()), 1);
  });

  test('several files fail if one fails', async () => {
    assert.equal(await testRules([join(ownTestdata(), 'shop-rules.test.yml'), join(shared.dir, 'failing.yml')], {}, captureOutput()), 1);
  });
});

test('own rule tests pass; a missing file fails', async () => {
  const out = captureOutput();
  assert.equal(await testRules([join(ownTestdata(), 'shop-rules.test.yml'), join(ownTestdata(), 'templates-rules.test.yml')], {}, out), 0);
  assert.equal((out.stdout.match(/SUCCESS/g) ?? []).length, 2);
  assert.equal(await testRules([join(ownTestdata(), 'nope.yml')], {}, captureOutput()), 1);
  assert.equal(await testRules([], { run: ['('] }, captureOutput()), 1);
  assert.equal(await checkRules([], captureOutput()), 0);
});

test('check rules --logql checks log rule files: the demo shop passes, a PromQL file fails with file and line', async () => {
  const shopLogRules = join(repoRoot(), 'examples', 'shop', 'rules', 'shop.logrules.yml');
  const ok = captureOutput();
  assert.equal(await rulesCommand(['check', 'rules', '--logql', shopLogRules], ok), 0);
  assert.match(ok.stdout, /SUCCESS: 2 rules found/);
  const bad = captureOutput();
  assert.equal(await rulesCommand(['check', 'rules', '--logql', join(repoRoot(), 'examples', 'shop', 'rules', 'shop.rules.yml')], bad), 1);
  assert.match(bad.stderr, /shop\.rules\.yml: 7:15: group "shop", rule 1, "HighErrorRate": could not parse expression: parse error at line 1/);
});
