// The scrape path wired end to end: a configured job, Vigil scraping itself, the targets API,
// and reload through POST /-/reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/config.js';
import { VigilServer } from './server.js';
import { getJson, tempDir, waitFor } from '../../testkit/helpers.js';
import { nopLogger } from '../../core/util/log.js';

test('scrape_configs from the config file are scraped, Vigil scrapes itself, and reload applies changes', { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir();
  let body = '# TYPE shop_orders_total counter\nshop_orders_total{shop="a"} 5\n';
  const target = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const port = (target.address() as AddressInfo).port;
  const file = path.join(dir, 'vigil.yml');
  const write = (extra: string): void =>
    fs.writeFileSync(
      file,
      `listen: 127.0.0.1:0\nstorage:\n  path: ${dir}/data\nglobal:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: shop\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n${extra}`,
    );
  write('');
  const config = loadConfig(file);
  config.web.enableLifecycle = true; // POST /-/reload below, as --web.enable-lifecycle
  const server = new VigilServer(config, { logger: nopLogger, configFile: file });
  await server.start();
  const url = `http://${server.address()}`;
  try {
    const value = async (q: string): Promise<string | undefined> => {
      const r = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const res = (r.body.data as { result: Array<{ value: [number, string] }> }).result;
      return res[0]?.value[1];
    };
    assert.equal(await waitFor('shop_orders_total scraped', () => value('shop_orders_total{job="shop"}'), 20_000), '5');
    assert.equal(await waitFor('self-scrape', () => value('up{job="vigil"}'), 30_000), '1');
    const targets = await getJson(`${url}/api/v1/targets`);
    const active = (targets.body.data as { activeTargets: Array<{ labels: Record<string, string>; health: string }> }).activeTargets;
    assert.deepEqual(active.map((t) => t.labels['job']).sort(), ['shop', 'vigil']);
    body = '# TYPE shop_orders_total counter\nshop_orders_total{shop="a"} 7\n';
    write(`  - job_name: second\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`);
    const reload = await fetch(`${url}/-/reload`, { method: 'POST' });
    assert.equal(reload.status, 200);
    assert.equal(await waitFor('second job after reload', () => value('shop_orders_total{job="second"}'), 20_000), '7');
    fs.writeFileSync(file, 'scrape_configs: [oops\n');
    const bad = await fetch(`${url}/-/reload`, { method: 'POST' });
    assert.equal(bad.status, 500);
    assert.match(await bad.text(), /vigil\.yml:\d+/);
  } finally {
    await server.stop();
    target.close();
    cleanup();
  }
});
