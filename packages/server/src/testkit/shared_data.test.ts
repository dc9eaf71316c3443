// `npm test` on a fresh clone (no ../shared/): every suite reading shared test data skips with a
// line naming what is missing, and VIGIL_REQUIRE_SHARED=1 (CI) turns the same absence into failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REQUIRE_SHARED_ENV, SHARED_DIR_ENV, sharedData } from './shared_data.js';

const distTest = dirname(dirname(fileURLToPath(import.meta.url)));

/** Every compiled test file that reads ../shared/. */
const SHARED_SUITES = [
  'metrics/promql/engine/conformance.test.js',
  'metrics/promql/parser/parser.test.js',
  'metrics/scrape/parser/promparse.test.js',
  'alerting/rules/fixtures.test.js',
  'alerting/rules/promtool.test.js',
  'server/cmd/rulescli.test.js',
  'alerting/slo/sloth.test.js',
].map((f) => join(distTest, f));

function runSuites(env: Record<string, string>): {
  status: number | null;
  output: string;
} {
  const base: Record<string, string | undefined> = { ...process.env };
  delete base[REQUIRE_SHARED_ENV];
  // A nested node --test reports to its parent runner instead of printing TAP.
  delete base['NODE_TEST_CONTEXT'];
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...SHARED_SUITES], { env: { ...base, ...env }, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, output: r.stdout + r.stderr };
}

test('sharedData names the missing directory, and throws when it is required', (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'vigil-noshared-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const saved = {
    dir: process.env[SHARED_DIR_ENV],
    req: process.env[REQUIRE_SHARED_ENV],
  };
  t.after(() => {
    for (const [k, v] of [
      [SHARED_DIR_ENV, saved.dir],
      [REQUIRE_SHARED_ENV, saved.req],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  process.env[SHARED_DIR_ENV] = empty;
  delete process.env[REQUIRE_SHARED_ENV];
  const missing = sharedData('promqltest');
  assert.equal(missing.dir, join(empty, 'promqltest'));
  assert.match(String(missing.skip), /promqltest not found$/);
  process.env[REQUIRE_SHARED_ENV] = '1';
  assert.throws(() => sharedData('promqltest'), /promqltest not found, and VIGIL_REQUIRE_SHARED=1 requires the shared test data/);
});

test('without shared test data the suites that read it pass by skipping; required, they fail', (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'vigil-noshared-'));
  t.after(() => rmSync(empty, { recursive: true, force: true }));
  const skipped = runSuites({ [SHARED_DIR_ENV]: empty });
  assert.equal(skipped.status, 0, skipped.output);
  assert.match(skipped.output, /promqltest not found/);
  assert.match(skipped.output, /promtool-testdata not found/);
  const required = runSuites({
    [SHARED_DIR_ENV]: empty,
    [REQUIRE_SHARED_ENV]: '1',
  });
  assert.notEqual(required.status, 0);
  assert.match(required.output, /VIGIL_REQUIRE_SHARED=1 requires the shared test data/);
});
