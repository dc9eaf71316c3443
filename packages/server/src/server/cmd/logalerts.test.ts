// Log rules wired into `vigil start`: LogQL alerting and recording rules from log_rule_files,
// evaluated over lines pushed through the Loki API, alerts routed to a webhook with a link that
// leads back to exactly the lines behind them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../config/config.js';
import { VigilServer } from './server.js';
import { getJson, tempDir, waitFor } from '../../testkit/helpers.js';
import { nopLogger } from '../../core/util/log.js';
import { startCatcher } from '../../testkit/alertmanager.js';

interface Notification {
  status: string;
  alerts: Array<{ labels: Record<string, string>; annotations: Record<string, string>; generatorURL: string }>;
}

const LOG_RULES = `groups:
  - name: shop-logs
    interval: 1s
    rules:
      - alert: PoolExhaustedInLogs
        expr: sum by (service) (count_over_time({app="shop"} |= "pool exhausted" [1m])) > 2
        labels:
          severity: high
        annotations:
          summary: '{{ $labels.service }}: {{ $value }} pool errors logged in the last minute'
      - record: service:log_errors:count1m
        expr: sum by (service) (count_over_time({app="shop"} | json | level="error" [1m]))
`;

function line(level: string, msg: string, requestId: string): string {
  return JSON.stringify({ level, msg, request_id: requestId });
}

test('LogQL rules alert through the router with a link to the failing lines, and record series', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir();
  const hook = await startCatcher();
  const received = (): Notification[] => hook.requests.map((r) => r.body as unknown as Notification);
  fs.writeFileSync(path.join(dir, 'shop.logrules.yml'), LOG_RULES);
  const file = path.join(dir, 'vigil.yml');
  fs.writeFileSync(
    file,
    `listen: 127.0.0.1:0
storage:
  path: ${dir}/data
self_scrape: false
log_rule_files: ['*.logrules.yml']
alertmanager_config:
  route:
    receiver: oncall
    group_by: [alertname, service]
    group_wait: 100ms
    group_interval: 1s
  receivers:
    - name: oncall
      webhook_configs:
        - url: ${hook.url}/hook
`,
  );
  const config = loadConfig(file);
  config.web.enableLifecycle = true; // POST /-/reload below, as --web.enable-lifecycle
  const server = new VigilServer(config, { logger: nopLogger, configFile: file });
  await server.start();
  const url = `http://${server.address()}`;
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    const ns = (i: number): string => String(now - BigInt(20 - i) * 1_000_000n);
    const payments = [0, 1, 2, 3, 4].map((i) => [ns(i), line('error', 'database pool exhausted after 5000ms', `req-pay-${i}`)]);
    const push = await fetch(`${url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        streams: [
          { stream: { app: 'shop', service: 'payments' }, values: [...payments, [ns(10), line('info', 'request completed', 'req-pay-ok')]] },
          // One pool error in another service: below the threshold, so no alert for it.
          { stream: { app: 'shop', service: 'catalog' }, values: [[ns(5), line('error', 'database pool exhausted after 5000ms', 'req-cat-1')]] },
        ],
      }),
    });
    assert.equal(push.status, 204);

    const msg = await waitFor('the log alert notification', async () => received().find((n) => n.status === 'firing'), 15_000, 50);
    assert.equal(msg.alerts.length, 1);
    const alert = msg.alerts[0]!;
    assert.deepEqual(alert.labels, { alertname: 'PoolExhaustedInLogs', service: 'payments', severity: 'high' });
    assert.equal(alert.annotations['summary'], 'payments: 5 pool errors logged in the last minute');
    assert.match(alert.generatorURL, /\/ui\/logs\?query=/);

    // The alert's logs_url opens the Logs page on exactly the lines that made it fire.
    const link = new URL(alert.annotations['logs_url']!);
    assert.equal(link.pathname, '/ui/logs');
    assert.equal(link.searchParams.get('query'), '{app="shop"} |= "pool exhausted" | service="payments"');
    const from = Date.parse(link.searchParams.get('from')!);
    const to = Date.parse(link.searchParams.get('to')!);
    const q = new URLSearchParams({
      query: link.searchParams.get('query')!,
      start: String(BigInt(from) * 1_000_000n),
      end: String(BigInt(to) * 1_000_000n),
      limit: '100',
    });
    const lines = await getJson(`${url}/loki/api/v1/query_range?${q}`);
    assert.equal(lines.status, 200);
    const got = (lines.body.data as { result: Array<{ values: [string, string][] }> }).result.flatMap((r) =>
      r.values.map((v) => (JSON.parse(v[1]) as { request_id: string }).request_id),
    );
    assert.deepEqual(got.sort(), ['req-pay-0', 'req-pay-1', 'req-pay-2', 'req-pay-3', 'req-pay-4']);

    // The recording rule wrote LogQL results into the TSDB, queryable with PromQL.
    const recorded = await waitFor(
      'the recorded series',
      async () => {
        const r = await getJson(`${url}/api/v1/query?query=${encodeURIComponent('service:log_errors:count1m')}`);
        const v = (r.body.data as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result;
        return v.length === 2 ? v : undefined;
      },
      10_000,
      100,
    );
    assert.deepEqual(Object.fromEntries(recorded.map((s) => [s.metric['service'], s.value[1]])), { payments: '5', catalog: '1' });

    // Both rule APIs list the log rules; Loki's ruler path lists only them.
    const all = await getJson(`${url}/api/v1/rules`);
    const lokiRules = await getJson(`${url}/prometheus/api/v1/rules?type=alert`);
    const names = (b: typeof all): string[] =>
      (b.body.data as { groups: Array<{ rules: Array<{ name: string }> }> }).groups.flatMap((g) => g.rules.map((r) => r.name));
    assert.deepEqual(names(all), ['PoolExhaustedInLogs', 'service:log_errors:count1m']);
    assert.deepEqual(names(lokiRules), ['PoolExhaustedInLogs']);
    const alerts = await getJson(`${url}/prometheus/api/v1/alerts`);
    assert.deepEqual(
      (alerts.body.data as { alerts: Array<{ state: string }> }).alerts.map((a) => a.state),
      ['firing'],
    );

    // A log rule file with a log (not metric) query refuses the reload, naming the file and line.
    fs.writeFileSync(
      path.join(dir, 'bad.logrules.yml'),
      'groups:\n  - name: bad\n    rules:\n      - alert: NotAMetric\n        expr: \'{app="shop"} |= "x"\'\n',
    );
    const reload = await fetch(`${url}/-/reload`, { method: 'POST' });
    assert.equal(reload.status, 500);
    const err = (await reload.json()) as { error: string };
    assert.match(err.error, /bad\.logrules\.yml: 5:15: .*could not parse expression: a log rule needs a LogQL metric query/);
    assert.deepEqual(names(await getJson(`${url}/api/v1/rules`)), ['PoolExhaustedInLogs', 'service:log_errors:count1m'], 'the running rules are kept');
  } finally {
    await server.stop();
    await hook.close();
    cleanup();
  }
});
