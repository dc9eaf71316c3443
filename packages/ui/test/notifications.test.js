/* global fetch, window */
// Notifications in the browser: Debian's Chromium (playwright-core) against a started Vigil routing
// with the demo's own alertmanager.yml, its PagerDuty and Slack placeholders pointed at a local
// server that answers 500 and its mail server at a closed port. The pool alert the demo's rule sends
// is posted; the Alerts page must flag the failing receivers and show each failed notification once
// with its attempts, and the Inbox must show the page, the Slack message and the email.
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

let vigil, failing, failingUrl, browser, page;

async function shot(name) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

before(async () => {
  if (skip) return;
  // PagerDuty and Slack stand-ins that are down.
  failing = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream unavailable'));
  });
  await new Promise((r) => failing.listen(0, '127.0.0.1', r));
  failingUrl = `http://127.0.0.1:${failing.address().port}`;
  const file = path.join(repo, 'examples/shop/alertmanager.yml');
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/slack_api_url: .*/, `slack_api_url: '${failingUrl}/slack'\n  pagerduty_url: '${failingUrl}/pd'`)
    .replace(/smtp_smarthost: .*/, `smtp_smarthost: '127.0.0.1:1'`)
    // The demo's timing, shortened so the test sees a flush and its retries in seconds.
    .replace('group_wait: 30s', 'group_wait: 1s')
    .replace('group_interval: 5m', 'group_interval: 4s');
  vigil = await startServer((c) => {
    c.alertmanager = parseAlertmanagerConfig(text, file);
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await vigil?.stop();
  if (failing) await new Promise((r) => failing.close(r));
});

test(
  'the demo pool alert: failing receivers flagged, failed notifications grouped with their attempts, the inbox shows page, Slack and email',
  { skip, timeout: 120_000 },
  async () => {
    // What the demo's DatabasePoolExhausted rule sends when the pool runs dry.
    const alert = {
      labels: { alertname: 'DatabasePoolExhausted', service: 'shop', pool: 'orders-db', severity: 'critical', team: 'payments' },
      annotations: {
        summary: 'Database pool orders-db of shop is nearly exhausted',
        description:
          'Pool orders-db has 20 of 20 connections in use for over 30 seconds; requests are queueing for connections and timing out. /health still answers 200.',
        runbook_url: 'http://127.0.0.1:8765/runbook#database-pool-exhaustion',
        dashboard_url: 'http://127.0.0.1:9466/ui/explore?expr=database_connections_active%7Bservice%3D%22shop%22%7D',
      },
    };
    const posted = await fetch(`${vigil.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([alert]),
    });
    assert.equal(posted.status, 200);
    // Wait for retries, so a grouped row has more than one attempt.
    await waitFor('retried notifications', async () => {
      const r = await fetch(`${vigil.url}/api/v1/alertmanager/history?type=notification`).then((x) => x.json());
      return r.data.some((e) => e.integration === 'pagerduty' && e.attemptCount >= 3) ? true : undefined;
    });

    await page.goto(`${vigil.url}/ui/alerts`);
    await page.waitForSelector('[data-testid="failing-receivers"]');
    const banner = await page.textContent('[data-testid="failing-receivers"]');
    assert.match(banner, /pagerduty-slack-email \/ pagerduty failing since/);
    assert.match(banner, /pagerduty-slack-email \/ slack failing since/);
    assert.match(banner, /pagerduty-slack-email \/ email failing since/);
    assert.match(banner, /unexpected status code 500: upstream unavailable/);
    assert.match(banner, /connection refused|ECONNREFUSED/i);
    assert.doesNotMatch(banner, /\/ inbox/, 'the inbox delivered');

    // One row per notification: the PagerDuty notification's retries are inside it.
    const pdRows = page.locator('.timeline li.ev-notification[data-receiver="pagerduty-slack-email"][data-integration="pagerduty"]');
    assert.equal(await pdRows.count(), 1);
    assert.equal(await pdRows.first().getAttribute('data-state'), 'failed');
    const row = await pdRows.first().textContent();
    assert.match(
      row,
      /notification failed DatabasePoolExhausted \(firing\) → pagerduty-slack-email\/pagerduty after \d+ attempts: POST http:\/\/127\.0\.0\.1:\d+\/pd: unexpected status code 500/,
    );
    await pdRows.first().locator('details.attempts summary').click();
    const attempts = await pdRows.first().locator('details.attempts li.failed').count();
    assert.ok(attempts >= 3, `${attempts} attempts listed`);
    const inboxRow = page.locator('.timeline li.ev-notification[data-integration="inbox"]');
    assert.equal(await inboxRow.first().getAttribute('data-state'), 'delivered');
    // A full-page shot from the top, so the sticky header stays where it belongs.
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('alerts-failing-receivers');

    await page.click('nav a:has-text("Inbox")');
    await page.waitForSelector('article.inbox-item[data-alertname="DatabasePoolExhausted"]');
    const item = page.locator('article.inbox-item[data-alertname="DatabasePoolExhausted"]').first();
    assert.equal(await item.getAttribute('data-status'), 'firing');
    assert.equal(await item.getAttribute('data-receiver'), 'pagerduty-slack-email');
    // The demo's own templates: PagerDuty's description, Slack's title and text, the default email.
    assert.match(
      await item.locator('[data-part="page"]').textContent(),
      /triggered.*severity critical[\s\S]*Database pool orders-db of shop is nearly exhausted/,
    );
    const slack = await item.locator('[data-part="slack"]').textContent();
    assert.match(slack, /#incidents/);
    assert.match(slack, /\[FIRING\] Database pool orders-db of shop is nearly exhausted/);
    assert.match(slack, /Runbook: http:\/\/127\.0\.0\.1:8765\/runbook#database-pool-exhaustion/);
    const email = await item.locator('[data-part="email"]').textContent();
    assert.match(email, /to oncall@shop\.example/);
    assert.match(email, /Subject: \[FIRING:1\] DatabasePoolExhausted/);
    await item.locator('[data-part="email"] summary').click();
    assert.match(await item.locator('.email-body').textContent(), /Pool orders-db has 20 of 20 connections/);
    // The inbox says the real receivers are failing too: what is shown here did not reach anyone.
    assert.match(await page.textContent('[data-testid="failing-receivers"]'), /pagerduty-slack-email \/ pagerduty failing since/);
    await shot('inbox');
  },
);
