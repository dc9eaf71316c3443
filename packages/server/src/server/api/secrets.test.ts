// Secrets never leave the process: the configuration endpoints (Prometheus' and Alertmanager's, and
// so `amtool config show`) print `<secret>` for every secret field, and a password_file's contents
// are never read into them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../config/config.js';
import { peerBinary, startServer, tempDir } from '../../testkit/helpers.js';

/** Every secret in the configuration below; none may appear in any output. */
const SECRETS = [
  'scrape-basic-pass',
  'scrape-credentials',
  'scrape-bearer',
  'FILE-CONTENT-SECRET',
  'https://hooks.slack.com/services/GLOBAL/SECRET',
  'smtp-pass',
  'https://hooks.slack.com/services/OWN/SECRET',
  'pd-routing-key',
  'email-pass',
  'hook-basic-pass',
];

function vigilYaml(passwordFile: string): string {
  return `
scrape_configs:
  - job_name: basic
    basic_auth: { username: u, password: scrape-basic-pass }
    static_configs: [{ targets: ['127.0.0.1:1'] }]
  - job_name: authz
    authorization: { credentials: scrape-credentials }
    static_configs: [{ targets: ['127.0.0.1:1'] }]
  - job_name: bearer
    bearer_token: scrape-bearer
    static_configs: [{ targets: ['127.0.0.1:1'] }]
  - job_name: from-file
    basic_auth: { username: u, password_file: ${JSON.stringify(passwordFile)} }
    static_configs: [{ targets: ['127.0.0.1:1'] }]
alertmanager_config:
  global:
    slack_api_url: https://hooks.slack.com/services/GLOBAL/SECRET
    smtp_auth_password: smtp-pass
    smtp_smarthost: localhost:25
    smtp_from: vigil@example.com
  route: { receiver: all }
  receivers:
    - name: all
      webhook_configs:
        - url: http://127.0.0.1:1/hook
          http_config: { basic_auth: { username: u, password: hook-basic-pass } }
      slack_configs:
        - api_url: https://hooks.slack.com/services/OWN/SECRET
          channel: '#alerts'
      pagerduty_configs:
        - routing_key: pd-routing-key
      email_configs:
        - to: ops@example.com
          auth_password: email-pass
`;
}

async function withServer(fn: (url: string) => Promise<void>): Promise<void> {
  const tmp = tempDir();
  const passwordFile = path.join(tmp.dir, 'password');
  fs.writeFileSync(passwordFile, 'FILE-CONTENT-SECRET');
  const file = path.join(tmp.dir, 'vigil.yml');
  const parsed = parseConfig(vigilYaml(passwordFile), file);
  const s = await startServer((c) => Object.assign(c, parsed, { storage: c.storage, listen: c.listen, selfScrape: false }));
  try {
    await fn(s.url);
  } finally {
    await s.stop();
    tmp.cleanup();
  }
}

/** Runs the real amtool against `url`; it exits non-zero when it cannot parse what Vigil served. */
function amtool(url: string, ...args: string[]): Promise<{ out: string; err: string }> {
  const bin = peerBinary('amtool', 'prometheus-alertmanager');
  return new Promise((resolve, reject) =>
    execFile(bin, [...args, `--alertmanager.url=${url}`], { timeout: 20_000 }, (err, out, errText) =>
      err ? reject(new Error(`${err.message}\n${errText}`)) : resolve({ out, err: errText }),
    ),
  );
}

function assertNoSecrets(text: string, where: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} shows the secret ${JSON.stringify(s)}:\n${text}`);
}

test('/api/v1/status/config shows the effective configuration with every secret as <secret>', async () => {
  await withServer(async (url) => {
    const body = (await (await fetch(`${url}/api/v1/status/config`)).json()) as { data: { yaml: string } };
    const yaml = body.data.yaml;
    assertNoSecrets(yaml, '/api/v1/status/config');
    assert.equal(yaml.match(/<secret>/g)?.length, 9, yaml);
    // The file path is shown (it is no secret), its contents are not.
    assert.match(yaml, /password_file: .*password/);
    // Defaults the file did not set are filled in.
    assert.match(yaml, /evaluation_interval: 1m/);
    assert.match(yaml, /retention: 15d/);
    assert.match(yaml, /metrics_path: \/metrics/);
    assert.match(yaml, /max_body_size: 32MB/);
  });
});

test("Alertmanager's /api/v2/status and amtool config show hide the same secrets", async () => {
  await withServer(async (url) => {
    const status = (await (await fetch(`${url}/api/v2/status`)).json()) as { config: { original: string } };
    assertNoSecrets(status.config.original, '/api/v2/status');
    assert.match(status.config.original, /routing_key: <secret>/);
    assert.match(status.config.original, /url: http:\/\/127\.0\.0\.1:1\/hook/);
    const show = await amtool(url, 'config', 'show');
    assertNoSecrets(show.out + show.err, 'amtool config show');
    assert.match(show.out, /api_url: <secret>/);
    // The redacted configuration still loads in amtool, which parses it for `config routes`.
    const routes = await amtool(url, 'config', 'routes', 'show');
    assert.match(routes.out, /receiver: all/);
  });
});
