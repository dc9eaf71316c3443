// SLOs end to end: `slos:` and `slo_files:` in a configuration run as rule groups listed at
// /api/v1/rules and reloaded with the rules; `vigil check config`, `vigil check rules` and
// `vigil slo generate` (whose output promtool accepts) over the same files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nopLogger } from '../../core/util/log.js';
import { peerBinary, tempDir, VIGIL_BIN } from '../../testkit/helpers.js';
import { captureOutput, ownTestdata } from '../../testkit/rules.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { checkConfigFiles } from './checkconfig.js';
import { rulesCommand } from './rulescli.js';
import { VigilServer } from './server.js';
import { sloCommand } from './slocli.js';

const sloth = (service: string, objective: number): string => `version: prometheus/v1
service: ${service}
labels:
  team: payments
slos:
  - name: availability
    objective: ${objective}
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="${service}",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="${service}"}[{{.window}}]))
    alerting:
      name: ${service[0]!.toUpperCase()}${service.slice(1)}Burn
      page_alert:
        labels: { severity: page }
      ticket_alert:
        labels: { severity: ticket }
`;

const CONFIG = `storage:
  path: data
slo_files: [slos/*.yml]
slos:
  - apiVersion: pyrra.dev/v1alpha1
    kind: ServiceLevelObjective
    metadata: { name: api-latency, namespace: api }
    spec:
      target: "95"
      window: 30d
      indicator:
        latency:
          success: { metric: 'http_request_duration_seconds_bucket{le="0.5"}' }
          total: { metric: 'http_request_duration_seconds_count' }
`;

interface RulesBody {
  data: { groups: Array<{ name: string; file: string; rules: Array<{ name: string; type: string; labels?: Record<string, string> }> }> };
}

test('slos: and slo_files: run as rule groups, are listed at /api/v1/rules and follow reloads', async () => {
  const { dir, cleanup } = tempDir();
  mkdirSync(join(dir, 'slos'));
  writeFileSync(join(dir, 'slos', 'checkout.yml'), sloth('checkout', 99.5));
  const configFile = join(dir, 'vigil.yml');
  writeFileSync(configFile, CONFIG);
  const cfg = loadConfig(configFile);
  cfg.listen = '127.0.0.1:0';
  // The test reloads through POST /-/reload, which is off unless enabled, as in Prometheus.
  cfg.web.enableLifecycle = true;
  const server = new VigilServer(cfg, { logger: nopLogger, configFile });
  await server.start();
  const url = `http://${server.address()}`;
  try {
    const rules = async (): Promise<RulesBody['data']['groups']> => ((await (await fetch(`${url}/api/v1/rules`)).json()) as RulesBody).data.groups;
    let groups = await rules();
    assert.deepEqual(groups.map((g) => g.name).sort(), [
      'sloth-slo-alerts-api-api-latency',
      'sloth-slo-alerts-checkout-availability',
      'sloth-slo-meta-recordings-api-api-latency',
      'sloth-slo-meta-recordings-checkout-availability',
      'sloth-slo-sli-recordings-api-api-latency',
      'sloth-slo-sli-recordings-checkout-availability',
    ]);
    assert.equal(groups.find((g) => g.name === 'sloth-slo-alerts-checkout-availability')!.file, join(dir, 'slos', 'checkout.yml'));
    assert.equal(groups.find((g) => g.name === 'sloth-slo-alerts-api-api-latency')!.file, configFile);
    const alerts = groups.find((g) => g.name === 'sloth-slo-alerts-checkout-availability')!.rules;
    assert.deepEqual(
      alerts.map((r) => [r.name, r.type, r.labels?.['severity'], r.labels?.['sloth_severity']]),
      [
        ['CheckoutBurn', 'alerting', 'page', 'page'],
        ['CheckoutBurn', 'alerting', 'ticket', 'ticket'],
      ],
    );

    // A second SLO file appears on reload.
    writeFileSync(join(dir, 'slos', 'search.yml'), sloth('search', 99));
    assert.equal((await fetch(`${url}/-/reload`, { method: 'POST' })).status, 200);
    groups = await rules();
    assert.equal(groups.length, 9);
    assert.ok(groups.some((g) => g.name === 'sloth-slo-alerts-search-availability'));

    // A broken one refuses the reload with its file and line, and the running rules stay.
    writeFileSync(join(dir, 'slos', 'search.yml'), sloth('search', 99).replace('objective: 99', 'objective: 0'));
    const res = await fetch(`${url}/-/reload`, { method: 'POST' });
    assert.equal(res.status, 500);
    assert.match(await res.text(), /slos\/search\.yml: 7:16: slos\[0\]: objective must be a number above 0 and at most 100/);
    assert.equal((await rules()).length, 9);
  } finally {
    await server.stop();
    cleanup();
  }
});

test('vigil check config and check rules validate SLOs with file and line; bad inline SLOs are config errors', async () => {
  const { dir, cleanup } = tempDir();
  try {
    mkdirSync(join(dir, 'slos'));
    const slo = join(dir, 'slos', 'checkout.yml');
    writeFileSync(slo, sloth('checkout', 99.5));
    const configFile = join(dir, 'vigil.yml');
    writeFileSync(configFile, CONFIG);
    const ok = captureOutput();
    assert.equal(await checkConfigFiles([configFile], ok), 0, ok.stderr);
    assert.match(ok.stdout, /1 SLO file patterns, 1 inline SLOs/);
    assert.match(ok.stdout, /checkout\.yml\n {2}SUCCESS: 1 SLOs, 17 rules generated/);
    const rules = captureOutput();
    assert.equal(await rulesCommand(['check', 'rules', slo], rules), 0);
    assert.match(rules.stdout, /SUCCESS: 1 SLOs, 17 rules generated/);

    // The same id in a file and inline, and a query that is not PromQL.
    writeFileSync(
      join(dir, 'slos', 'dup.yml'),
      sloth('checkout', 99).replace('sum(rate(http_requests_total{service="checkout",code', 'sum(rate(http_requests_total{{service="checkout",code'),
    );
    const bad = captureOutput();
    assert.equal(await rulesCommand(['check', 'rules', join(dir, 'slos', 'dup.yml')], bad), 1);
    assert.match(bad.stderr, /dup\.yml: 6:\d+: SLO "checkout-availability": slo:sli_error:ratio_rate5m: invalid query: /);
    const badCfg = captureOutput();
    assert.equal(await checkConfigFiles([configFile], badCfg), 1);
    assert.match(badCfg.stderr, /dup\.yml: 6:\d+: SLO "checkout-availability"/);

    writeFileSync(configFile, CONFIG.replace('target: "95"', 'target: "x"'));
    assert.throws(
      () => loadConfig(configFile),
      (e: unknown) => e instanceof ConfigError && /vigil\.yml:9: slos: spec\.target: objective must be/.test(e.message),
    );
  } finally {
    cleanup();
  }
});

test('vigil slo generate prints a rule file promtool accepts; usage errors exit 2', () => {
  const { dir, cleanup } = tempDir();
  try {
    const slo = join(dir, 'checkout.yml');
    writeFileSync(slo, sloth('checkout', 99.5));
    const out = captureOutput();
    assert.equal(sloCommand(['slo', 'generate', slo], out), 0);
    assert.match(out.stdout, /^groups:\n {2}- name: sloth-slo-sli-recordings-checkout-availability\n/);
    assert.equal(sloCommand(['slo', 'generate'], captureOutput()), 2);
    assert.equal(sloCommand(['slo', 'frobnicate'], captureOutput()), 2);
    assert.equal(sloCommand(['start'], captureOutput()), undefined);
    // Through the real command line, then promtool's own check of the result.
    const printed = execFileSync(process.execPath, [VIGIL_BIN, 'slo', 'generate', slo], { encoding: 'utf8' });
    assert.equal(printed, out.stdout);
    const rulesFile = join(dir, 'generated.yml');
    writeFileSync(rulesFile, printed);
    const promtool = spawnSync(peerBinary('promtool', 'prometheus'), ['check', 'rules', rulesFile], { encoding: 'utf8' });
    assert.equal(promtool.status, 0, promtool.stderr);
    assert.match(promtool.stdout, /SUCCESS: 17 rules found/);
  } finally {
    cleanup();
  }
});

test('vigil test rules runs promtool-format unit tests over an SLO file: the shop page and ticket fire on failing checkouts', async () => {
  const out = captureOutput();
  assert.equal(await rulesCommand(['test', 'rules', join(ownTestdata(), 'shop-slo.test.yml')], out), 0, out.stdout + out.stderr);
  assert.match(out.stdout, /SUCCESS/);
  // The same test expecting silence once the failures start fails: the expectations are checked.
  const { dir, cleanup } = tempDir();
  try {
    const text = readFileSync(join(ownTestdata(), 'shop-slo.test.yml'), 'utf8')
      .replace('../../../../../../examples', join(ownTestdata(), '../../../../../../examples'))
      .replace(
        'eval_time: 75m\n        alertname: CheckoutErrorBudgetBurn\n        exp_alerts:\n',
        'eval_time: 75m\n        alertname: CheckoutErrorBudgetBurn\n        exp_alerts: []\n        unused:\n',
      );
    const broken = join(dir, 'broken.test.yml');
    writeFileSync(broken, text.replace(/\n {8}unused:[\s\S]*$/, '\n'));
    const bad = captureOutput();
    assert.equal(await rulesCommand(['test', 'rules', broken], bad), 1);
    assert.match(bad.stdout + bad.stderr, /alertname: CheckoutErrorBudgetBurn, time: 1h15m/);
  } finally {
    cleanup();
  }
});
