/* global fetch, URLSearchParams */
// `npm run bench` (name `ui`): how fast the UI is for the on-call engineer, in Debian's Chromium
// against a real Vigil scraping the demo shop under traffic. Each load is cold (a fresh browser
// context, so nothing cached): the time until the shell is interactive and until the overview
// shows the shop's numbers, as the page measures them from navigation start; and the time the
// Explore chart takes to draw 10,000 points. Targets: interactive within 1 s, the chart within
// 100 ms. No peer: Grafana is not installable here. Usage: node load.js [--quick]
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchChromium, noChromium } from '../test/browser.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../..');
const { startServer, freePort } = await import(path.join(repo, 'packages/server/dist-test/testkit/helpers.js'));
const { parseConfig } = await import(path.join(repo, 'packages/server/dist-test/server/config/config.js'));
const { REPO_ROOT, writeJson } = await import(path.join(repo, 'packages/server/dist-test/testkit/bench/report.js'));
const { startShop } = await import(path.join(repo, 'examples/shop/dist/main.js'));
const { startTraffic } = await import(path.join(repo, 'examples/shop/dist/traffic.js'));

const TARGET_INTERACTIVE_MS = 1000;
const TARGET_CHART_MS = 100;
const rounds = process.argv.includes('--quick') ? 3 : 9;

function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], max: s.at(-1), runs: s.length };
}

async function main() {
  if (noChromium) throw new Error(noChromium);
  const startedAt = new Date();
  const shopPort = await freePort();
  const yaml = `scrape_configs:\n  - job_name: shop\n    scrape_interval: 1s\n    static_configs:\n      - targets: ['127.0.0.1:${shopPort}']\n`;
  const vigil = await startServer((c) => {
    c.scrapeConfigs = parseConfig(yaml, 'ui-bench.yml').scrapeConfigs;
  });
  const shop = await startShop({ port: shopPort, vigil: { logDestination: { write() {} } } });
  const traffic = startTraffic({ url: shop.url, sessionsPerSecond: 15 });
  const browser = await launchChromium();
  try {
    // The overview's cards show rates over 1m windows: wait until there is one to show.
    const rate = encodeURIComponent('sum(rate(http_server_request_duration_seconds_count[1m]))');
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(500)) {
      const r = await fetch(`${vigil.url}/api/v1/query?query=${rate}`).then((x) => x.json());
      if (Number(r.data?.result?.[0]?.value?.[1]) > 0) break;
    }
    const interactive = [];
    const withData = [];
    const chart = [];
    const to = Date.now();
    const explore = `${vigil.url}/ui/explore?${new URLSearchParams({
      expr: 'sin(vector(time()) / 600)',
      from: new Date(to - 9_999_000).toISOString(),
      to: new Date(to).toISOString(),
      step: '1s',
    })}`;
    for (let i = 0; i < rounds; i++) {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${vigil.url}/ui/`);
      await page.waitForSelector('#app[data-ready]');
      interactive.push(Number(await page.getAttribute('#app', 'data-ready')));
      await page.waitForSelector('section[data-row="shop"] a[data-signal="rps"]');
      withData.push(await page.evaluate(() => Math.round(globalThis.performance.now())));
      await page.goto(explore);
      await page.waitForSelector('.chart[data-draw-ms]');
      const points = Number(await page.getAttribute('.chart', 'data-points'));
      if (points < 10_000) throw new Error(`the chart drew ${points} points, not 10,000`);
      chart.push(Number(await page.getAttribute('.chart', 'data-draw-ms')));
      await context.close();
    }
    const record = {
      targets: { shellInteractiveMs: TARGET_INTERACTIVE_MS, chart10kDrawMs: TARGET_CHART_MS },
      shellInteractiveMs: summary(interactive),
      overviewWithDataMs: summary(withData),
      chart10kDrawMs: summary(chart),
    };
    const file = writeJson(REPO_ROOT, 'ui', startedAt, record);
    const verdict = (x, target) => (x <= target ? 'met' : 'MISSED');
    console.log(`UI, ${rounds} cold loads in Chromium (median / max):`);
    console.log(
      `  shell interactive   ${record.shellInteractiveMs.median} / ${record.shellInteractiveMs.max} ms  (target ≤ ${TARGET_INTERACTIVE_MS} ms: ${verdict(record.shellInteractiveMs.median, TARGET_INTERACTIVE_MS)})`,
    );
    console.log(`  overview with data  ${record.overviewWithDataMs.median} / ${record.overviewWithDataMs.max} ms`);
    console.log(
      `  10,000-point chart  ${record.chart10kDrawMs.median} / ${record.chart10kDrawMs.max} ms  (target ≤ ${TARGET_CHART_MS} ms: ${verdict(record.chart10kDrawMs.median, TARGET_CHART_MS)})`,
    );
    console.log(`record: ${file}`);
  } finally {
    await browser.close();
    await traffic.stop(2000);
    await shop.close();
    await vigil.stop();
  }
}

await main();
