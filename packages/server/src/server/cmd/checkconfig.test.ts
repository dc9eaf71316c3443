// `vigil check config`: a vigil.yml with its rule files, or an alertmanager.yml, validated without
// starting anything; errors with file and line. And `--help` after every subcommand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { captureOutput, repoRoot } from '../../testkit/rules.js';
import { tempDir, VIGIL_BIN } from '../../testkit/helpers.js';
import { checkConfigCommand, checkConfigFiles } from './checkconfig.js';

test('the demo shop configuration and its alertmanager.yml pass, rule files included', async () => {
  const shop = path.join(repoRoot(), 'examples', 'shop');
  const out = captureOutput();
  assert.equal(await checkConfigFiles([path.join(shop, 'vigil.yml'), path.join(shop, 'alertmanager.yml')], out), 0, out.stderr);
  assert.match(out.stdout, /vigil\.yml\n {2}SUCCESS: 1 scrape configs/);
  assert.match(out.stdout, /shop\.rules\.yml\n {2}SUCCESS: \d+ rules found/);
  assert.match(out.stdout, /alertmanager\.yml is a valid Alertmanager configuration: 3 receivers/);
});

test('errors name file, line and field; a bad rule file fails the check too', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const bad = path.join(tmp.dir, 'vigil.yml');
  fs.writeFileSync(bad, 'listen: 127.0.0.1:9466\nstorage:\n  retention: soon\n');
  let out = captureOutput();
  assert.equal(await checkConfigFiles([bad], out), 1);
  assert.match(out.stderr, new RegExp(`FAILED: ${bad.replace(/[.\\/]/g, '\\$&')}:3: storage\\.retention: `));

  const am = path.join(tmp.dir, 'alertmanager.yml');
  fs.writeFileSync(am, 'route:\n  receiver: nobody\nreceivers:\n  - name: someone\n');
  out = captureOutput();
  assert.equal(await checkConfigFiles([am], out), 1);
  assert.match(out.stderr, /alertmanager\.yml:\d+: .*nobody/);

  const withRules = path.join(tmp.dir, 'with-rules.yml');
  fs.writeFileSync(withRules, 'rule_files: [rules.yml]\n');
  fs.writeFileSync(path.join(tmp.dir, 'rules.yml'), 'groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n');
  out = captureOutput();
  assert.equal(await checkConfigFiles([withRules], out), 1);
  assert.match(out.stderr, /rules\.yml: 5:15: group "g", rule 1, "x": could not parse expression/);

  assert.equal(await checkConfigCommand(['check', 'config'], captureOutput()), 2);
  assert.equal(await checkConfigCommand(['check', 'rules'], captureOutput()), undefined);
});

test('--help after every subcommand prints that command’s usage and exits 0', () => {
  const cases: Array<[string[], RegExp]> = [
    [['start', '--help'], /^Usage: vigil start .*--config\.file/s],
    [['check', 'config', '--help'], /^Usage: vigil check config FILE/],
    [['check', 'rules', '-h'], /^Usage: vigil check rules \[--logql\]/],
    [['test', 'rules', '--help'], /^Usage: vigil test rules \[--run REGEX\]/],
    [['tsdb', 'verify', '--help'], /^Usage: vigil tsdb verify DIR/],
    [['logs', 'verify', '--help'], /^Usage: vigil logs verify DIR/],
    [['--help'], /^Usage: vigil <command>/],
  ];
  for (const [args, want] of cases) {
    const r = spawnSync(process.execPath, [VIGIL_BIN, ...args], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, want, args.join(' '));
  }
});
