// Links in alerts use the URL people reach Vigil by (web.external_url), and lead to the query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startServer, waitFor } from '../../testkit/helpers.js';

test("an alert's generatorURL starts with web.external_url and opens its query in Explore", async () => {
  const srv = await startServer((c) => {
    const file = path.join(c.storage.path, 'always.rules.yml');
    fs.writeFileSync(file, 'groups:\n  - name: g\n    interval: 1s\n    rules:\n      - alert: Always\n        expr: vector(1) > 0\n');
    c.ruleFiles = [file];
    c.web.externalUrl = 'https://vigil.example.com/';
  });
  try {
    const alert = await waitFor(
      'the rule to fire',
      async () => {
        const res = await fetch(`${srv.url}/api/v2/alerts`);
        const alerts = (await res.json()) as Array<{ labels: Record<string, string>; generatorURL: string }>;
        return alerts.find((a) => a.labels['alertname'] === 'Always');
      },
      15_000,
      100,
    );
    assert.equal(alert.generatorURL, 'https://vigil.example.com/graph?g0.expr=vector%281%29+%3E+0&g0.tab=1');
    const local = new URL(alert.generatorURL);
    const res = await fetch(`${srv.url}${local.pathname}${local.search}`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/ui/explore?expr=vector%281%29+%3E+0&view=table');
  } finally {
    await srv.stop();
  }
});
