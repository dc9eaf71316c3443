/* global document, fetch, window, WebSocket, Blob, atob, URL, URLSearchParams */
// Browser tests of issue 19 (items 5 and 6): a page served from another origin tries to steer Vigil
// in Debian's Chromium (form POSTs, no-cors fetches, a cross-site WebSocket, DNS rebinding) and
// every attempt fails, while the same actions from Vigil's own UI and from a Node client (no
// Origin) succeed. Also: the UI runs under its Content-Security-Policy without violations, and an
// alert annotation with a `javascript:` URL does not become a link.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchChromium, noChromium } from './browser.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const uiRoot = path.resolve(here, '../..');
const repo = path.resolve(uiRoot, '../..');
const artifacts = path.join(uiRoot, 'test-artifacts');
const skip = noChromium;

const { startServer, writeBody } = await import(path.join(repo, 'packages/server/dist-test/testkit/helpers.js'));
const { labelsFrom } = await import(path.join(repo, 'packages/server/dist-test/core/model/labels.js'));

// A name Chromium resolves to 127.0.0.1, standing for an attacker's domain rebound to loopback.
const REBOUND = 'rebind.attacker.test';

let vigil, attacker, attackerUrl, browser, context;

before(async () => {
  if (skip) return;
  // Reload and flush are off unless enabled (as in Prometheus); on here, so only the origin check refuses them.
  vigil = await startServer((c) => {
    c.web.enableLifecycle = true;
    c.web.enableAdminApi = true;
  });
  // The attacker's site: any page on another origin (here, another port) will do.
  attacker = http.createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>attacker</title><p>nothing to see</p>'),
  );
  await new Promise((r) => attacker.listen(0, '127.0.0.1', r));
  attackerUrl = `http://127.0.0.1:${attacker.address().port}`;
  browser = await launchChromium([`--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`]);
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  if (skip) return;
  await browser?.close();
  if (attacker) await new Promise((r) => attacker.close(r));
  await vigil?.stop();
});

/** Lines of the `job` log stream Vigil holds, asked by a Node client. */
async function logLines(job) {
  const q = new URLSearchParams({ query: `{job="${job}"}`, start: '0', limit: '100' });
  const r = await fetch(`${vigil.url}/loki/api/v1/query_range?${q}`).then((x) => x.json());
  return r.data.result.flatMap((s) => s.values.map((v) => v[1]));
}

async function sampleCount(metric) {
  const r = await fetch(`${vigil.url}/api/v1/query?query=${metric}`).then((x) => x.json());
  return r.data.result.length;
}

async function silencesBy(who) {
  const list = await fetch(`${vigil.url}/api/v2/silences`).then((x) => x.json());
  return list.filter((s) => s.createdBy === who && s.status.state === 'active').length;
}

async function alertActive(name) {
  const list = await fetch(`${vigil.url}/api/v2/alerts`).then((x) => x.json());
  return list.some((a) => a.labels.alertname === name);
}

function silenceJson(who) {
  return JSON.stringify({
    matchers: [{ name: 'alertname', value: 'Victim', isRegex: false }],
    startsAt: new Date().toISOString(),
    endsAt: new Date(Date.now() + 3600_000).toISOString(),
    createdBy: who,
    comment: 'x',
  });
}

const pushJson = (job, line) => JSON.stringify({ streams: [{ stream: { job }, values: [[String(Date.now() * 1e6), line]] }] });

/** Submits an HTML form from the current page (a top-level navigation, as a CSRF page would) and returns the answer's status. */
async function formPost(page, action) {
  const [nav] = await Promise.all([
    page.waitForNavigation(),
    page.evaluate((a) => {
      const f = document.createElement('form');
      f.method = 'POST';
      f.action = a;
      const i = document.createElement('input');
      i.name = 'x';
      i.value = '1';
      f.append(i);
      document.body.append(f);
      f.submit();
    }, action),
  ]);
  return nav.status();
}

/** Runs the no-cors attacks from `page`; fetches with no-cors resolve with opaque answers either way. */
async function noCorsAttacks(page, target, tag, remoteWriteB64) {
  return page.evaluate(
    async ({ target, tag, remoteWriteB64, silence, push }) => {
      const post = (p, body, type) =>
        fetch(target + p, { method: 'POST', mode: 'no-cors', body: type ? new Blob([body], { type }) : body }).catch((e) => e.message);
      await post('/api/v2/silences', silence, 'text/plain');
      await post('/api/v2/alerts', JSON.stringify([{ labels: { alertname: `Injected${tag}` } }]), 'text/plain');
      await post('/api/v1/alertmanager/resolve', JSON.stringify({ fingerprint: window.victimFp, by: tag }), 'text/plain');
      await post('/loki/api/v1/push', push, 'text/plain');
      await post('/api/v1/logs/jsonl?stream_fields=job&msg_field=msg', JSON.stringify({ msg: `jsonl-${tag}`, job: `attack${tag}` }) + '\n', 'text/plain');
      // A typeless Blob sends no Content-Type at all, which remote_write accepts: only Origin stops it.
      const bytes = Uint8Array.from(atob(remoteWriteB64), (c) => c.charCodeAt(0));
      await post('/api/v1/write', bytes, '');
      return 'sent';
    },
    { target, tag, remoteWriteB64, silence: silenceJson(tag), push: pushJson(`attack${tag}`, `pushed-${tag}`) },
  );
}

/** Opens the tail WebSocket from `page`; resolves 'open' (and the first frame) or 'refused'. */
async function tailFrom(page, wsUrl) {
  return page.evaluate(
    (u) =>
      new Promise((resolve) => {
        const ws = new WebSocket(u);
        let opened = false;
        ws.onopen = () => (opened = true);
        ws.onmessage = (m) => {
          resolve(`open:${String(m.data).slice(0, 40)}`);
          ws.close();
        };
        ws.onclose = () => resolve(opened ? 'open' : 'refused');
        setTimeout(() => resolve(opened ? 'open' : 'timeout'), 5000);
      }),
    wsUrl,
  );
}

test('a page on another origin cannot reload, flush, silence, resolve, inject alerts, push logs or samples, or tail logs', { skip }, async () => {
  const host = new URL(vigil.url).host;
  const victimFp = await injectVictim();
  await fetch(`${vigil.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: pushJson('secret', 'password=hunter2'),
  });
  const page = await context.newPage();
  await page.goto(attackerUrl);
  await page.evaluate((fp) => (window.victimFp = fp), victimFp);
  const attackWrite = writeBody([{ labels: labelsFrom({ __name__: 'attack_sample', job: 'x' }), samples: [[Date.now(), 1]] }]).toString('base64');

  assert.equal(await noCorsAttacks(page, vigil.url, 'X', attackWrite), 'sent');
  assert.equal(await tailFrom(page, `ws://${host}/loki/api/v1/tail?query=${encodeURIComponent('{job="secret"}')}&start=0`), 'refused');
  assert.equal(await formPost(page, `${vigil.url}/-/reload`), 403);
  await page.goto(attackerUrl);
  assert.equal(await formPost(page, `${vigil.url}/api/v1/admin/tsdb/flush`), 403);
  assert.match(await page.textContent('body'), /cross-origin request from .*127\.0\.0\.1:\d+.* refused/);

  await sleep(300);
  assert.equal(await silencesBy('X'), 0, 'no silence created');
  assert.equal(await alertActive('InjectedX'), false, 'no alert injected');
  assert.equal(await alertActive('Victim'), true, 'the victim alert was not resolved');
  assert.deepEqual(await logLines('attackX'), [], 'no log line pushed');
  assert.equal(await sampleCount('attack_sample'), 0, 'no sample written');
  await page.close();
});

test('DNS rebinding: a page whose name resolves to Vigil is answered 421, even same-origin', { skip }, async () => {
  const port = new URL(vigil.url).port;
  const page = await context.newPage();
  const res = await page.goto(`http://${REBOUND}:${port}/ui/`);
  assert.equal(res.status(), 421);
  // Same-origin to the browser now: no Origin check would stop these, the Host check does.
  const statuses = await page.evaluate(async () => [
    (await fetch('/api/v1/status/config')).status,
    (await fetch('/loki/api/v1/query_range?query=%7Bjob%3D%22secret%22%7D&start=0')).status,
    (await fetch('/-/reload', { method: 'POST' })).status,
  ]);
  assert.deepEqual(statuses, [421, 421, 421]);
  assert.equal(await tailFrom(page, `ws://${REBOUND}:${port}/loki/api/v1/tail?query=${encodeURIComponent('{job="secret"}')}&start=0`), 'refused');
  await page.close();
});

test("the same actions from Vigil's own UI origin succeed", { skip }, async () => {
  const host = new URL(vigil.url).host;
  const page = await context.newPage();
  await page.goto(`${vigil.url}/ui/`);
  const results = await page.evaluate(
    async ({ silence, push }) => {
      const post = async (p, body, type) => (await fetch(p, { method: 'POST', headers: type ? { 'content-type': type } : {}, body })).status;
      return [
        await post('/api/v2/silences', silence, 'application/json'),
        await post('/loki/api/v1/push', push, 'application/json'),
        await post('/api/v1/logs/jsonl?stream_fields=job&msg_field=msg', JSON.stringify({ msg: 'ui-jsonl', job: 'ownui' }) + '\n', 'application/x-ndjson'),
        await post('/-/reload'),
      ];
    },
    { silence: silenceJson('UI'), push: pushJson('ownui', 'from-the-ui') },
  );
  assert.deepEqual(results, [200, 204, 204, 200]);
  assert.equal(await formPost(page, `${vigil.url}/api/v1/admin/tsdb/flush`), 200);
  await page.goto(`${vigil.url}/ui/`);
  assert.match(await tailFrom(page, `ws://${host}/loki/api/v1/tail?query=${encodeURIComponent('{job="ownui"}')}&start=0`), /^open:.*streams/);
  assert.equal(await silencesBy('UI'), 1);
  assert.deepEqual((await logLines('ownui')).sort(), ['from-the-ui', 'ui-jsonl']);
  await page.close();
});

test('the same actions from a Node client without Origin succeed', { skip }, async () => {
  const post = (p, body, headers = {}) => fetch(`${vigil.url}${p}`, { method: 'POST', headers, body }).then((r) => r.status);
  assert.equal(await post('/api/v2/silences', silenceJson('node'), { 'content-type': 'application/json' }), 200);
  assert.equal(await post('/loki/api/v1/push', pushJson('nodeclient', 'from-node'), { 'content-type': 'application/json' }), 204);
  assert.equal(
    await post('/api/v1/logs/jsonl?stream_fields=job&msg_field=msg', JSON.stringify({ msg: 'node-jsonl', job: 'nodeclient' }) + '\n'),
    204,
    'fetch sends text/plain for a string',
  );
  const write = writeBody([{ labels: labelsFrom({ __name__: 'node_sample', job: 'x' }), samples: [[Date.now(), 1]] }]);
  assert.equal(await post('/api/v1/write', write, { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }), 204);
  assert.equal(await post('/-/reload'), 200);
  assert.equal(await post('/-/reload', 'x=1', { 'content-type': 'application/x-www-form-urlencoded' }), 200);
  assert.equal(await post('/api/v1/admin/tsdb/flush'), 200);
  assert.equal(await silencesBy('node'), 1);
  assert.deepEqual((await logLines('nodeclient')).sort(), ['from-node', 'node-jsonl']);
  assert.equal(await sampleCount('node_sample'), 1);
});

test('the UI runs under its CSP without violations, and javascript: annotation links are not rendered', { skip }, async () => {
  await fetch(`${vigil.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels: { alertname: 'Scripted', service: 'shop"} or vector(1) or {x="', severity: 'critical' },
        annotations: {
          summary: 'annotation links from alert data',
          logs_url: 'javascript:window.__pwned=1',
          runbook_url: 'javascript:window.__pwned=2',
          dashboard_url: 'https://grafana.example/d/1',
        },
      },
    ]),
  });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const csp = (await page.goto(`${vigil.url}/ui/`)).headers()['content-security-policy'];
  assert.match(csp, /frame-ancestors 'none'/);
  await page.waitForSelector('#app[data-ready]');
  for (const p of ['explore', 'logs', 'status', 'dashboards', 'alerts']) {
    await page.goto(`${vigil.url}/ui/${p}`);
    await page.waitForSelector('#app[data-ready]');
    await sleep(300);
  }
  const alert = page.locator('li.alert[data-alertname="Scripted"]');
  await alert.waitFor();
  const links = await alert.locator('a').evaluateAll((as) => as.map((a) => [a.textContent.trim(), a.getAttribute('href')]));
  for (const [, h] of links) assert.doesNotMatch(String(h), /^\s*javascript:/i, JSON.stringify(links));
  assert.ok(
    links.some(([t, h]) => t.startsWith('Dashboard') && h === 'https://grafana.example/d/1'),
    'the https dashboard link stays',
  );
  assert.ok(!links.some(([t]) => t.startsWith('Runbook')), 'the javascript: runbook link is dropped');
  // The Logs link falls back to the service's logs, with the hostile label value escaped in the query.
  const logsHref = links.find(([t]) => t === 'Logs')?.[1];
  assert.ok(logsHref, JSON.stringify(links));
  assert.equal(new URL(logsHref, vigil.url).searchParams.get('query'), '{service="shop\\"} or vector(1) or {x=\\""}');
  await alert.locator('a', { hasText: 'Logs' }).click();
  await sleep(300);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  fs.mkdirSync(artifacts, { recursive: true });
  await page.goto(`${vigil.url}/ui/alerts`);
  await page.locator('li.alert[data-alertname="Scripted"]').waitFor();
  await page.screenshot({ path: path.join(artifacts, 'security-alerts.png'), fullPage: true });
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  await page.close();
});

/** A firing alert the attacker will try to resolve; returns its fingerprint. */
async function injectVictim() {
  const r = await fetch(`${vigil.url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([{ labels: { alertname: 'Victim', severity: 'warning' } }]),
  });
  assert.equal(r.status, 200);
  const list = await fetch(`${vigil.url}/api/v2/alerts`).then((x) => x.json());
  return list.find((a) => a.labels.alertname === 'Victim').fingerprint;
}
