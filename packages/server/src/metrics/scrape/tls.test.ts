// Scraping over HTTPS with tls_config: a CA file that signs the target's certificate, a wrong CA
// (the scrape fails with a certificate error), insecure_skip_verify, and server_name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { httpTransport } from './transport.js';
import { parseGlobalConfig, parseScrapeConfigs } from './config.js';
import { tempDir } from '../../testkit/helpers.js';
import { makeCerts } from '../../testkit/httpclient.js';

let dir: string;
let cleanup: () => void;
let server: https.Server;
let port = 0;

before(async () => {
  ({ dir, cleanup } = tempDir('vigil-tls-'));
  makeCerts(dir);
  server = https.createServer({ key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.crt')) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end('secure_metric 1\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.close();
  cleanup();
});

async function scrapeWith(tls: Record<string, unknown>): Promise<string> {
  const [cfg] = parseScrapeConfigs(
    [{ job_name: 'tls', scheme: 'https', tls_config: tls, static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
    parseGlobalConfig(undefined),
    dir,
  );
  const t = httpTransport(cfg!);
  try {
    const res = await t.fetch({ url: `https://127.0.0.1:${port}/metrics`, headers: {}, bodySizeLimit: 0, signal: AbortSignal.timeout(5000) });
    return res.body.toString();
  } finally {
    t.close();
  }
}

test('a CA file that signed the target certificate verifies it', async () => {
  assert.equal(await scrapeWith({ ca_file: 'ca.crt' }), 'secure_metric 1\n');
});

test('a certificate from another CA is refused', async () => {
  await assert.rejects(scrapeWith({ ca_file: 'other.crt' }), /certificate/i);
});

test('insecure_skip_verify accepts any certificate', async () => {
  assert.equal(await scrapeWith({ insecure_skip_verify: true }), 'secure_metric 1\n');
});

test('server_name is checked against the certificate', async () => {
  assert.equal(await scrapeWith({ ca_file: 'ca.crt', server_name: 'localhost' }), 'secure_metric 1\n');
  await assert.rejects(scrapeWith({ ca_file: 'ca.crt', server_name: 'elsewhere.example' }), /altnames|hostname|certificate/i);
});
