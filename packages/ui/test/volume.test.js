/* global fetch, window */
// The notification-volume panel in Debian's Chromium (playwright-core) against a started Vigil whose
// receiver has a rate_limit of 2 an hour and a local webhook: five alert groups flush, two go out,
// three are held back. The Alerts page must show the receiver's hourly bars (sent and suppressed in
// the current hour), the noisiest rules, and the held-back notifications in the history.
// Screenshots go to packages/ui/test-artifacts/. Runs from packages/ui/dist/test/ (build.js copies it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, noChromium } from './browser.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const uiRoot = path.resolve(here, '../..');
const repo = path.resolve(uiRoot, '../..');
const artifacts = path.join(uiRoot, 'test-artifacts');

const { startServer, waitFor } = await import(path.join(repo, 'packages/server/dist-test/testkit/helpers.js'));
const { parseAlertmanagerConfig } = await import(path.join(repo, 'packages/server/dist-test/alerting/alertmanager/config.js'));

const skip = noChromium;

let vigil, hook, browser, page;
const received = [];

before(async () => {
  if (skip) return;
  hook = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push(req.url);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${hook.address().port}`;
  vigil = await startServer((c) => {
    c.alertmanager = parseAlertmanagerConfig(
      `route:
  receiver: oncall
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1h
receivers:
  - name: oncall
    rate_limit: { max: 2, interval: 1h }
    webhook_configs:
      - url: ${url}/hook
`,
      'am.yml',
    );
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await vigil?.stop();
  if (hook) await new Promise((r) => hook.close(r));
});

test(
  'notification volume: hourly bars per receiver with the held-back ones, the noisiest rules, suppressed rows in the history',
  { skip, timeout: 90_000 },
  async () => {
    const alerts = ['CheckoutErrors', 'CheckoutErrors', 'PoolExhausted', 'DiskFull', 'HighLatency', 'CertExpiry'].map((alertname, i) => ({
      labels: { alertname, instance: `i${i}` },
    }));
    const posted = await fetch(`${vigil.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    assert.equal(posted.status, 200);
    await waitFor('five flushes', async () => {
      const r = await fetch(`${vigil.url}/api/v1/alertmanager/stats/volume`).then((x) => x.json());
      return r.data.total + r.data.suppressed === 5 ? true : undefined;
    });
    assert.equal(received.length, 2);

    await page.goto(`${vigil.url}/ui/alerts`);
    await page.waitForSelector('[data-testid="notification-volume"]');
    const row = page.locator('[data-testid="notification-volume"] tr[data-receiver="oncall"]');
    assert.equal(await row.count(), 1);
    const bars = row.locator('svg.volume-bars g');
    assert.equal(await bars.count(), 24, 'one bar per hour');
    const last = bars.nth(23);
    assert.equal(await last.getAttribute('data-sent'), '2');
    assert.equal(await last.getAttribute('data-suppressed'), '3');
    // The stacked bar is drawn: the busiest hour (5) fills the height, sent 2/5 of it, held back 3/5.
    assert.equal(Number(await last.locator('rect.volume-sent').getAttribute('height')), 16);
    assert.equal(Number(await last.locator('rect.volume-held').getAttribute('height')), 24);
    assert.equal(await bars.nth(0).getAttribute('data-sent'), '0');
    assert.equal(await row.locator('td').nth(2).textContent(), '2');
    assert.equal(await row.locator('td').nth(3).textContent(), '3');
    const rules = page.locator('[data-testid="noisy-rules"] tbody tr');
    assert.equal(await rules.count(), 5);
    // CheckoutErrors had two alerts in one group: one notification, like each other rule.
    const names = await rules.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-alertname')));
    assert.deepEqual([...names].sort(), ['CertExpiry', 'CheckoutErrors', 'DiskFull', 'HighLatency', 'PoolExhausted']);
    assert.match(await page.textContent('[data-testid="notification-volume"]'), /2 notifications sent and 3 held back by rate limits in the last 24 hours/);

    const suppressed = page.locator('.timeline li.ev-notification[data-state="suppressed"]');
    assert.equal(await suppressed.count(), 3);
    assert.match(await suppressed.first().textContent(), /notification suppressed \S+ \(firing\) → oncall\/webhook rate limit reached/);
    await page.evaluate(() => window.scrollTo(0, 0));
    fs.mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'alerts-notification-volume.png'), fullPage: true });
  },
);
