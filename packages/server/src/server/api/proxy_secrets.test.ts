// Passwords inside a proxy_url (scrape jobs, HTTP SD, Alertmanager's http_config) never leave the
// process: /api/v1/status/config, /api/v2/status and so amtool show them as Go's url.Redacted does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { parseConfig } from '../config/config.js';
import { peerBinary, startServer } from '../../testkit/helpers.js';

const yml = `
scrape_configs:
  - job_name: proxied
    proxy_url: http://scraper:scrape-proxy-pass@127.0.0.1:3128
    static_configs: [{ targets: ['127.0.0.1:1'] }]
  - job_name: discovered
    http_sd_configs:
      - url: http://127.0.0.1:1/sd
        proxy_url: http://sd:sd-proxy-pass@127.0.0.1:3128
alertmanager_config:
  route: { receiver: hook }
  receivers:
    - name: hook
      webhook_configs:
        - url: http://127.0.0.1:1/hook
          http_config: { proxy_url: 'http://am:am-proxy-pass@127.0.0.1:3128' }
`;
const SECRETS = ['scrape-proxy-pass', 'sd-proxy-pass', 'am-proxy-pass'];

test('proxy_url passwords are xxxxx on /api/v1/status/config, /api/v2/status and in amtool config show', async () => {
  const parsed = parseConfig(yml, path.join(process.cwd(), 'vigil.yml'));
  const s = await startServer((c) => Object.assign(c, parsed, { storage: c.storage, listen: c.listen, selfScrape: false }));
  try {
    const cfg = ((await (await fetch(`${s.url}/api/v1/status/config`)).json()) as { data: { yaml: string } }).data.yaml;
    for (const secret of SECRETS) assert.ok(!cfg.includes(secret), cfg);
    assert.match(cfg, /proxy_url: http:\/\/scraper:xxxxx@127\.0\.0\.1:3128/);
    assert.match(cfg, /proxy_url: http:\/\/sd:xxxxx@127\.0\.0\.1:3128/);
    const am = ((await (await fetch(`${s.url}/api/v2/status`)).json()) as { config: { original: string } }).config.original;
    for (const secret of SECRETS) assert.ok(!am.includes(secret), am);
    assert.match(am, /proxy_url: http:\/\/am:xxxxx@127\.0\.0\.1:3128/);
    const bin = peerBinary('amtool', 'prometheus-alertmanager');
    const shown = await new Promise<string>((resolve, reject) =>
      execFile(bin, ['config', 'show', `--alertmanager.url=${s.url}`], { timeout: 20_000 }, (err, out, errText) =>
        err ? reject(new Error(`${err.message}\n${errText}`)) : resolve(out + errText),
      ),
    );
    for (const secret of SECRETS) assert.ok(!shown.includes(secret), shown);
    assert.match(shown, /proxy_url: http:\/\/am:xxxxx@127\.0\.0\.1:3128/);
  } finally {
    await s.stop();
  }
});

test('a proxy_url that does not parse is named in the error without its password', () => {
  assert.throws(
    () => parseConfig("scrape_configs:\n  - job_name: p\n    proxy_url: 'http://u:bad-url-pass@[nope'\n", 'p.yml'),
    (err: unknown) => {
      const msg = (err as Error).message;
      assert.match(msg, /p\.yml:3.*invalid proxy URL "http:\/\/u:xxxxx@\[nope"/);
      assert.ok(!msg.includes('bad-url-pass'), msg);
      return true;
    },
  );
});
