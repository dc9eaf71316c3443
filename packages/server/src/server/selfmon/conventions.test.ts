// Vigil's self-metrics follow the conventions Prometheus' dashboards and alerts expect: build info,
// config reload state, the status code on request latency, and Alertmanager's notification names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../config/config.js';
import { VigilServer } from '../cmd/server.js';
import { nopLogger } from '../../core/util/log.js';
import { tempDir } from '../../testkit/helpers.js';

/** The value of the sample whose line starts with `series` (name and labels as rendered), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('/metrics: build info, config reload state, request latency by code, Alertmanager notification families', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const file = path.join(tmp.dir, 'vigil.yml');
  // web.enable_lifecycle: the test reloads through POST /-/reload.
  fs.writeFileSync(
    file,
    `listen: 127.0.0.1:0\nstorage: { path: ${JSON.stringify(path.join(tmp.dir, 'data'))} }\nself_scrape: false\nweb: { enable_lifecycle: true }\n`,
  );
  const server = new VigilServer(loadConfig(file), { logger: nopLogger, configFile: file, version: '1.2.3' });
  await server.start();
  t.after(() => server.stop());
  const url = `http://${server.address()}`;
  const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();

  let text = await metrics();
  assert.match(
    text,
    new RegExp(`^vigil_build_info\\{version="1\\.2\\.3",revision="[^"]+",branch="[^"]+",nodeversion="${process.version.replace(/\./g, '\\.')}"\\} 1$`, 'm'),
  );
  assert.equal(sample(text, 'vigil_config_last_reload_successful'), 1);
  const loadedAt = sample(text, 'vigil_config_last_reload_success_timestamp_seconds')!;
  assert.ok(Math.abs(loadedAt - Date.now() / 1000) < 60, String(loadedAt));
  assert.equal(sample(text, 'alertmanager_notifications_total{integration="webhook"}'), 0);
  assert.equal(sample(text, 'alertmanager_notifications_failed_total{integration="slack"}'), 0);

  // A bad file: the reload fails, the gauge says so, the success timestamp stays.
  fs.writeFileSync(file, 'listen: [unclosed\n');
  assert.equal((await fetch(`${url}/-/reload`, { method: 'POST' })).status, 500);
  text = await metrics();
  assert.equal(sample(text, 'vigil_config_last_reload_successful'), 0);
  assert.equal(sample(text, 'vigil_config_last_reload_success_timestamp_seconds'), loadedAt);
  const runtime = (await (await fetch(`${url}/api/v1/status/runtimeinfo`)).json()) as { data: { reloadConfigSuccess: boolean } };
  assert.equal(runtime.data.reloadConfigSuccess, false);

  fs.writeFileSync(file, `listen: 127.0.0.1:0\nself_scrape: false\n`);
  assert.equal((await fetch(`${url}/-/reload`, { method: 'POST' })).status, 200);
  text = await metrics();
  assert.equal(sample(text, 'vigil_config_last_reload_successful'), 1);
  assert.ok(sample(text, 'vigil_config_last_reload_success_timestamp_seconds')! >= loadedAt);

  // The status code is a label: a bad query (400) and a good one (200) are separate series.
  assert.equal((await fetch(`${url}/api/v1/query`)).status, 400);
  assert.equal((await fetch(`${url}/api/v1/query?query=1`)).status, 200);
  text = await metrics();
  assert.equal(sample(text, 'vigil_http_request_duration_seconds_count{handler="/api/v1/query",code="400"}'), 1);
  assert.equal(sample(text, 'vigil_http_request_duration_seconds_count{handler="/api/v1/query",code="200"}'), 1);
});

test('/api/v1/status/buildinfo reports the Prometheus version Vigil follows, and Vigil build details', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const file = path.join(tmp.dir, 'vigil.yml');
  fs.writeFileSync(file, `listen: 127.0.0.1:0\nstorage: { path: ${JSON.stringify(path.join(tmp.dir, 'data'))} }\nself_scrape: false\n`);
  const server = new VigilServer(loadConfig(file), { logger: nopLogger, configFile: file, version: '1.2.3' });
  await server.start();
  t.after(() => server.stop());
  const body = (await (await fetch(`http://${server.address()}/api/v1/status/buildinfo`)).json()) as { data: Record<string, string> };
  assert.equal(body.data['version'], '3.0.0');
  assert.equal(body.data['vigilVersion'], '1.2.3');
  assert.equal(body.data['goVersion'], `node ${process.version}`);
  assert.notEqual(body.data['revision'], 'vigil');
});
