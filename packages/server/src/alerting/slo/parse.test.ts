// Pyrra and OpenSLO documents read into the SLO model, and the errors of bad SLO files (with file and line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promqlLanguage } from '../rules/language.js';
import { parseSLOFile } from './parse.js';
import { sloRuleGroups } from './load.js';

const canon = (q: string): string => promqlLanguage.canonical(q);

const PYRRA_RATIO = `apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: checkout-errors
  namespace: shop
  labels:
    prometheus: k8s
spec:
  target: "99.5"
  window: 28d
  description: Checkouts that succeed.
  indicator:
    ratio:
      errors:
        metric: http_requests_total{job="shop",code=~"5.."}
      total:
        metric: http_requests_total{job="shop"}
      grouping: [route]
`;

test('a Pyrra ratio SLO: 28 days, grouped, burn rates scaled to the period', () => {
  const p = parseSLOFile(PYRRA_RATIO, 'pyrra.yml');
  assert.deepEqual(p.errors, []);
  const slo = p.slos[0]!;
  assert.equal(slo.id, 'shop-checkout-errors');
  assert.equal(slo.objective, 99.5);
  assert.equal(slo.alertName, 'ErrorBudgetBurn');
  const { groups, errors } = sloRuleGroups(p.slos, p.windows);
  assert.deepEqual(errors, []);
  assert.deepEqual(
    groups.map((g) => g.name),
    ['sloth-slo-sli-recordings-shop-checkout-errors', 'sloth-slo-meta-recordings-shop-checkout-errors', 'sloth-slo-alerts-shop-checkout-errors'],
  );
  // 28 days prints as 4w, as Prometheus prints durations.
  assert.deepEqual(
    groups[0]!.rules.map((r) => r.name.replace('slo:sli_error:ratio_rate', '')),
    ['5m', '30m', '1h', '2h', '6h', '1d', '3d', '4w'],
  );
  assert.equal(
    groups[0]!.rules[0]!.query,
    canon('(sum by (route) (rate(http_requests_total{job="shop",code=~"5.."}[5m]))) / (sum by (route) (rate(http_requests_total{job="shop"}[5m])))'),
  );
  assert.equal(groups[1]!.rules.find((r) => r.name === 'slo:time_period:days')!.query, 'vector(28)');
  const [page, ticket] = groups[2]!.rules;
  // 2% of 28 days in one hour: 13.44; the budget is 0.5%.
  assert.match(page!.query, /ratio_rate5m\{[^}]*\} > \(13\.44 \* 0\.005\)/);
  assert.deepEqual(page!.labels, { severity: 'critical', sloth_severity: 'page' });
  assert.deepEqual(ticket!.labels, { severity: 'warning', sloth_severity: 'ticket' });
});

test('a Pyrra latency SLO: the bad events are all requests minus those in the bucket at the bound', () => {
  const text = PYRRA_RATIO.replace(
    /indicator:[\s\S]*$/,
    `indicator:
    latency:
      success:
        metric: http_request_duration_seconds_bucket{job="shop",le="0.5"}
      total:
        metric: http_request_duration_seconds_count{job="shop"}
  alerting:
    name: CheckoutSlow
`,
  );
  const p = parseSLOFile(text, 'latency.yml');
  assert.deepEqual(p.errors, []);
  const { groups } = sloRuleGroups(p.slos, p.windows);
  assert.equal(
    groups[0]!.rules[1]!.query,
    canon(
      '((sum(rate(http_request_duration_seconds_count{job="shop"}[30m])) - sum(rate(http_request_duration_seconds_bucket{job="shop",le="0.5"}[30m])))) / (sum(rate(http_request_duration_seconds_count{job="shop"}[30m])))',
    ),
  );
  assert.equal(groups[2]!.rules[0]!.name, 'CheckoutSlow');
  const noBound = parseSLOFile(text.replace(',le="0.5"', ''), 'latency.yml');
  assert.match(noBound.errors[0]!.message, /^latency\.yml: 15:\d+: spec\.indicator\.latency\.success\.metric must select one bucket with le=/);
});

test('an OpenSLO v1 SLO with a bad/total ratio metric and a 7-day window', () => {
  const p = parseSLOFile(
    `apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
spec:
  service: shop
  budgetingMethod: Occurrences
  indicator:
    metadata:
      name: checkout-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(checkout_errors_total[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(checkout_total[{{.window}}]))
  timeWindow:
    - duration: 7d
      isRolling: true
  objectives:
    - displayName: most checkouts work
      target: 0.99
`,
    'openslo.yml',
  );
  assert.deepEqual(p.errors, []);
  const slo = p.slos[0]!;
  assert.equal(slo.id, 'shop-checkout-availability-0');
  assert.equal(slo.objective, 99);
  assert.equal(slo.page, undefined);
  const { groups } = sloRuleGroups(p.slos, p.windows);
  assert.equal(groups.length, 2, 'OpenSLO carries no alerting, so no alert group (as Sloth)');
  assert.equal(groups[0]!.rules[0]!.query, canon('(sum(rate(checkout_errors_total[5m]))) / (sum(rate(checkout_total[5m])))'));
  assert.equal(groups[0]!.rules.at(-1)!.name, 'slo:sli_error:ratio_rate1w');
  const info = groups[1]!.rules.find((r) => r.name === 'sloth_slo_info')!;
  assert.equal(info.labels['sloth_spec'], 'openslo/v1');
  assert.equal(info.labels['sloth_objective'], '99');
});

const SLOTH = `version: prometheus/v1
service: shop
slos:
  - name: checkout
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(errors_total[{{.window}}]))
        total_query: sum(rate(requests_total[{{.window}}]))
    alerting:
      name: CheckoutBudgetBurn
`;

test('bad SLO files: each error names the file, the line and what is wrong', () => {
  const cases: Array<[string, RegExp]> = [
    [
      SLOTH.replace(/events:\n.*\n.*\n/, 'plugin:\n        id: sloth-common/availability\n'),
      /^f\.yml: 8:9: slos\[0\]\.sli\.plugin: SLI plugins are Sloth Go plugins and are not supported/,
    ],
    [SLOTH.replace('[{{.window}}]))\n        total', '[5m]))\n        total'), /^f\.yml: 8:22: slos\[0\]\.sli\.events: error_query must use \{\{\.window\}\}/],
    [SLOTH.replace('objective: 99.5', 'objective: 100.5'), /^f\.yml: 5:16: slos\[0\]: objective must be a number above 0 and at most 100/],
    [SLOTH.replace('    alerting:\n      name: CheckoutBudgetBurn\n', ''), /^f\.yml: 4:5: slos\[0\]\.alerting: name is required unless both/],
    [SLOTH.replace('service: shop', 'service: shop\nowner: me'), /^f\.yml: 3:1: prometheus\/v1: unknown field "owner"/],
    [SLOTH.replace('version: prometheus/v1', 'version: prometheus/v2'), /^f\.yml: 1:10: unsupported spec version "prometheus\/v2"/],
    [SLOTH + SLOTH.replace('version: prometheus/v1\nservice: shop\nslos:\n', ''), /^f\.yml: 12:11: slos\[1\]: SLO "checkout" is repeated/],
    ['kind: Deployment\napiVersion: apps/v1\n', /^f\.yml: 1:1: unknown SLO document \(apiVersion "apps\/v1", kind "Deployment"\)/],
    ['version: prometheus/v1\nservice: [a\n', /^f\.yml: \d+:\d+: invalid YAML/],
  ];
  for (const [text, re] of cases) {
    const p = parseSLOFile(text, 'f.yml');
    assert.ok(p.errors.length > 0, `no error for ${re}`);
    assert.match(p.errors[0]!.message, re);
  }
  // A query that is not PromQL once its window is filled in fails at generation, at the SLO's line.
  const bad = parseSLOFile(SLOTH.replace('sum(rate(errors_total', 'sum(rate(errors_total{'), 'f.yml');
  assert.deepEqual(bad.errors, []);
  const gen = sloRuleGroups(bad.slos, bad.windows);
  assert.deepEqual(gen.groups, []);
  assert.match(gen.errors[0]!.message, /^f\.yml: 4:\d+: SLO "shop-checkout": slo:sli_error:ratio_rate5m: invalid query: /);
});

test("Sloth's raw SLI: the error ratio query itself, its window filled in", () => {
  const p = parseSLOFile(
    SLOTH.replace(/events:\n.*\n.*\n/, 'raw:\n        error_ratio_query: 1 - (sum(rate(ok_total[{{.window}}])) / sum(rate(requests_total[{{.window}}])))\n'),
    'raw.yml',
  );
  assert.deepEqual(p.errors, []);
  const { groups } = sloRuleGroups(p.slos, p.windows);
  assert.equal(groups[0]!.rules[2]!.name, 'slo:sli_error:ratio_rate1h');
  assert.equal(groups[0]!.rules[2]!.query, canon('(1 - (sum(rate(ok_total[1h])) / sum(rate(requests_total[1h]))))'));
});
