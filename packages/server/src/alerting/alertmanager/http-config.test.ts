// Receivers' http_config applied end to end: a webhook behind a local HTTPS server whose CA openssl
// made, authentication from files, global http_config inheritance, proxies, and config errors that
// name file and line. The router is driven by a ManualClock as in router.test.ts.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IncomingHttpHeaders } from 'node:http';
import { ManualClock } from '../../core/time/manual_clock.js';
import { AlertmanagerConfigError, parseAlertmanagerConfig, type AlertmanagerConfig } from './config.js';
import { AlertRouter } from './router.js';
import { startCatcher, type Catcher } from '../../testkit/alertmanager.js';
import type { PostableAlert } from './types.js';
import { makeCerts, serveHttps, startProxy, type ProxyLog, type TestServer } from '../../testkit/httpclient.js';
import { tempDir } from '../../testkit/helpers.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

let dir: string;
let cleanup: () => void;
let secure: TestServer;
let plain: Catcher;
let proxy: TestServer & { log: ProxyLog };
const received: Received[] = [];

// Paths under /bearer want `Bearer s3cret`, under /basic `Basic alice:pw`; others want nothing.
const WANT: Record<string, string> = { bearer: 'Bearer s3cret', basic: `Basic ${Buffer.from('alice:pw').toString('base64')}` };

before(async () => {
  ({ dir, cleanup } = tempDir('vigil-am-http-'));
  makeCerts(dir);
  fs.writeFileSync(path.join(dir, 'token'), 's3cret\n');
  fs.writeFileSync(path.join(dir, 'password'), 'pw\n');
  secure = await serveHttps(dir, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const want = WANT[(req.url ?? '/').split('/')[1] ?? ''];
      if (want !== undefined && req.headers.authorization !== want) return void res.writeHead(401).end('unauthorized');
      received.push({ path: req.url ?? '/', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      res.writeHead(200).end('ok');
    });
  });
  plain = await startCatcher();
  proxy = await startProxy();
});

after(async () => {
  await Promise.all([secure.close(), plain.close(), proxy.close()]);
  cleanup();
});

beforeEach(() => {
  received.length = 0;
  plain.requests.length = 0;
  proxy.log.forwarded.length = proxy.log.tunnels.length = proxy.log.headers.length = 0;
});

const FILE = (): string => path.join(dir, 'alertmanager.yml');

/** A configuration whose receiver `hook` has the given `webhook_configs` entries (YAML, indented 6). */
function config(webhooks: string, global = ''): AlertmanagerConfig {
  return parseAlertmanagerConfig(
    `global:
  resolve_timeout: 1h
${global}
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
${webhooks}`,
    FILE(),
  );
}

function setup(cfg: AlertmanagerConfig): { clock: ManualClock; router: AlertRouter; send: (a: PostableAlert[]) => void } {
  const clock = new ManualClock();
  const router = new AlertRouter({ clock, config: cfg, initialBackoffMs: 1000 });
  router.start();
  return { clock, router, send: (a) => router.receive(a) };
}

/** Waits (real time) until `cond` holds: TLS handshakes may outlast the fake clock's idle wait. */
async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const attempts = (router: AlertRouter): Array<{ ok?: boolean | undefined; error?: string | undefined }> =>
  router.history.query({ type: 'notification' }).reverse();
const A: PostableAlert = { labels: { alertname: 'Down', instance: 'a' } };

test('a webhook behind HTTPS with a private CA and a bearer token from credentials_file gets the notification', async () => {
  const { clock, router, send } = setup(
    config(`      - url: ${secure.url}/bearer/hook
        http_config:
          authorization: {credentials_file: token}
          tls_config: {ca_file: ca.crt}`),
  );
  send([A]);
  await clock.advance(30_000);
  await until('the notification', () => received.length === 1);
  assert.equal(received[0]!.path, '/bearer/hook');
  assert.equal(received[0]!.headers.authorization, 'Bearer s3cret');
  assert.equal(received[0]!.body['status'], 'firing');
  assert.deepEqual(
    attempts(router).map((a) => a.ok),
    [true],
  );

  // The token file is read for every send: a rotated token that the server does not accept fails the next one.
  fs.writeFileSync(path.join(dir, 'token'), 'rotated\n');
  try {
    send([{ labels: { alertname: 'Other', instance: 'a' } }]);
    await clock.advance(30_000);
    await until('the failed attempt', () => attempts(router).length >= 2);
    assert.match(attempts(router)[1]!.error ?? '', /unexpected status code 401/);
  } finally {
    fs.writeFileSync(path.join(dir, 'token'), 's3cret\n');
    router.stop();
  }
});

test('a server certificate from another CA fails the send; the failure is recorded and retried', async () => {
  const { clock, router, send } = setup(
    config(`      - url: ${secure.url}/bearer/hook
        http_config:
          authorization: {credentials_file: token}
          tls_config: {ca_file: other.crt}`),
  );
  send([A]);
  await clock.advance(30_000);
  await until('the first attempt', () => attempts(router).length >= 1);
  await clock.advance(5_000);
  await until('retries', () => attempts(router).length >= 3);
  const tries = attempts(router);
  assert.ok(tries.every((a) => !a.ok));
  assert.match(tries[0]!.error ?? '', /^POST https:\/\/127\.0\.0\.1:\d+\/bearer\/hook: .*(certificate|self.signed|issuer)/i);
  const st = router.stats.integrations()[0]!;
  assert.ok(st.attempts >= 3);
  assert.equal(st.successRate, 0);
  assert.equal(received.length, 0);
  router.stop();
});

test('without the CA the certificate is refused; insecure_skip_verify accepts it', async () => {
  const refused = setup(config(`      - url: ${secure.url}/open`));
  refused.send([A]);
  await refused.clock.advance(30_000);
  await until('the attempt', () => attempts(refused.router).length >= 1);
  assert.equal(attempts(refused.router)[0]!.ok, false);
  refused.router.stop();

  const { clock, router, send } = setup(
    config(`      - url: ${secure.url}/open
        http_config:
          tls_config: {insecure_skip_verify: true}`),
  );
  send([A]);
  await clock.advance(30_000);
  await until('the notification', () => received.length === 1);
  assert.equal(received[0]!.headers.authorization, undefined);
  router.stop();
});

test('basic_auth with password_file; a wrong password is a 401 that is not retried', async () => {
  const ok = setup(
    config(`      - url: ${secure.url}/basic/hook
        http_config:
          basic_auth: {username: alice, password_file: password}
          tls_config: {ca_file: ca.crt}`),
  );
  ok.send([A]);
  await ok.clock.advance(30_000);
  await until('the notification', () => received.length === 1);
  assert.equal(received[0]!.headers.authorization, WANT['basic']);
  ok.router.stop();

  const bad = setup(
    config(`      - url: ${secure.url}/basic/hook
        http_config:
          basic_auth: {username: alice, password: wrong}
          tls_config: {ca_file: ca.crt}`),
  );
  bad.send([A]);
  await bad.clock.advance(30_000);
  await until('the attempt', () => attempts(bad.router).length >= 1);
  await bad.clock.advance(5_000);
  assert.deepEqual(
    attempts(bad.router).map((a) => a.ok),
    [false],
  );
  assert.match(attempts(bad.router)[0]!.error ?? '', /401/);
  bad.router.stop();
});

test('global http_config applies to webhooks without their own; an own http_config replaces it as a whole', async () => {
  const cfg = config(
    `      - url: ${secure.url}/bearer/inherits
      - url: ${secure.url}/open/own
        http_config:
          tls_config: {insecure_skip_verify: true}`,
    `  http_config:
    authorization: {credentials_file: token}
    tls_config: {ca_file: ca.crt}`,
  );
  const [inherits, own] = cfg.receivers[0]!.integrations as Array<{ httpConfig: unknown }>;
  assert.equal(inherits!.httpConfig, cfg.global.httpConfig);
  assert.notEqual(own!.httpConfig, cfg.global.httpConfig);
  const { clock, router, send } = setup(cfg);
  send([A]);
  await clock.advance(30_000);
  await until('both notifications', () => received.length === 2);
  const byPath = new Map(received.map((r) => [r.path, r.headers.authorization]));
  assert.equal(byPath.get('/bearer/inherits'), 'Bearer s3cret');
  // Nothing of the global config is merged in: no token is sent.
  assert.equal(byPath.has('/open/own'), true);
  assert.equal(byPath.get('/open/own'), undefined);
  router.stop();
});

test('proxy_url: plain requests go to the proxy in absolute form, https ones through a CONNECT tunnel', async () => {
  const proxyUrl = proxy.url.replace('http://', 'http://pu:pp@');
  const { clock, router, send } = setup(
    config(`      - url: ${plain.url}/via-proxy
        http_config:
          proxy_url: ${proxyUrl}
      - url: ${secure.url}/bearer/tunnel
        http_config:
          proxy_url: ${proxyUrl}
          proxy_connect_header: {X-Tunnel: [yes]}
          authorization: {credentials_file: token}
          tls_config: {ca_file: ca.crt}`),
  );
  send([A]);
  await clock.advance(30_000);
  await until('both notifications', () => plain.requests.length === 1 && received.length === 1);
  assert.deepEqual(proxy.log.forwarded, [`POST ${plain.url}/via-proxy`]);
  assert.deepEqual(proxy.log.tunnels, [`127.0.0.1:${secure.port}`]);
  const pa = `Basic ${Buffer.from('pu:pp').toString('base64')}`;
  assert.ok(proxy.log.headers.every((h) => h['proxy-authorization'] === pa));
  assert.equal(proxy.log.headers.find((h) => h['x-tunnel'] !== undefined)?.['x-tunnel'], 'yes');
  assert.equal(received[0]!.headers.authorization, 'Bearer s3cret');
  assert.equal(received[0]!.headers['proxy-authorization'], undefined, 'the proxy credentials do not reach the target');
  router.stop();
});

test('no_proxy: loopback and listed hosts bypass the proxy', async () => {
  const { clock, router, send } = setup(
    config(`      - url: ${plain.url}/direct
        http_config:
          proxy_url: ${proxy.url}
          no_proxy: example.com`),
  );
  send([A]);
  await clock.advance(30_000);
  await until('the notification', () => plain.requests.length === 1);
  assert.deepEqual(proxy.log.forwarded, []);
  router.stop();
});

test('a missing credentials file is a load warning and a failed, retried send', async () => {
  const cfg = config(`      - url: ${secure.url}/bearer/hook
        http_config:
          enable_http2: true
          authorization: {credentials_file: missing-token}
          tls_config: {ca_file: ca.crt}`);
  assert.ok(
    cfg.warnings.some((w) => /alertmanager\.yml:\d+: .*http_config: authorization credentials_file .*missing-token does not exist/.test(w)),
    cfg.warnings.join('\n'),
  );
  assert.ok(
    cfg.warnings.some((w) => /alertmanager\.yml:\d+: .*enable_http2: enable_http2 is ignored/.test(w)),
    cfg.warnings.join('\n'),
  );
  const { clock, router, send } = setup(cfg);
  send([A]);
  await clock.advance(30_000);
  await clock.advance(5_000);
  await until('retries', () => attempts(router).length >= 2);
  assert.match(attempts(router)[0]!.error ?? '', /unable to read authorization credentials file .*missing-token/);
  router.stop();
});

/** The error of parsing `text`, which must fail. */
function configError(text: string): AlertmanagerConfigError {
  try {
    parseAlertmanagerConfig(text, 'am.yml');
  } catch (err) {
    assert.ok(err instanceof AlertmanagerConfigError, String(err));
    return err;
  }
  assert.fail('expected a configuration error');
}

const BASE = 'route:\n  receiver: r\nreceivers:\n  - name: r\n';

const bad: Array<[string, string, RegExp]> = [
  [
    'basic_auth and authorization',
    `${BASE}    webhook_configs:\n      - url: http://x/\n        http_config:\n          basic_auth: {username: u, password: p}\n          authorization: {credentials: t}\n`,
    /^am\.yml:9: receivers\.0\.webhook_configs\.0\.http_config\.authorization: at most one of basic_auth, oauth2, bearer_token & bearer_token_file & authorization must be configured$/,
  ],
  [
    'bearer_token and bearer_token_file',
    `${BASE}    slack_configs:\n      - api_url: http://x/\n        http_config:\n          bearer_token: a\n          bearer_token_file: b\n`,
    /^am\.yml:9: receivers\.0\.slack_configs\.0\.http_config\.bearer_token_file: at most one of bearer_token & bearer_token_file must be configured$/,
  ],
  [
    'credentials and credentials_file',
    `global:\n  http_config:\n    authorization:\n      credentials: a\n      credentials_file: b\n${BASE}`,
    /^am\.yml:5: global\.http_config\.authorization\.credentials_file: at most one of authorization credentials & credentials_file/,
  ],
  [
    'oauth2',
    `${BASE}    pagerduty_configs:\n      - routing_key: k\n        http_config:\n          oauth2: {client_id: a}\n`,
    /^am\.yml:8: receivers\.0\.pagerduty_configs\.0\.http_config\.oauth2: oauth2 is not supported by Vigil/,
  ],
  [
    'proxy_from_environment with proxy_url',
    `${BASE}    discord_configs:\n      - webhook_url: http://x/\n        http_config:\n          proxy_from_environment: true\n          proxy_url: http://p:3128\n`,
    /^am\.yml:9: receivers\.0\.discord_configs\.0\.http_config\.proxy_url: if proxy_from_environment is configured, proxy_url must not be configured$/,
  ],
  [
    'no_proxy without proxy_url',
    `${BASE}    msteams_configs:\n      - webhook_url: http://x/\n        http_config:\n          no_proxy: a.example\n`,
    /^am\.yml:8: .*no_proxy: if no_proxy is configured, proxy_url must also be configured$/,
  ],
  [
    'socks proxy',
    `${BASE}    webhook_configs:\n      - url: http://x/\n        http_config:\n          proxy_url: socks5://p:1080\n`,
    /^am\.yml:8: .*proxy_url: unsupported proxy scheme "socks5"/,
  ],
  [
    'authorization type basic',
    `${BASE}    webhook_configs:\n      - url: http://x/\n        http_config:\n          authorization: {type: Basic}\n`,
    /^am\.yml:8: .*authorization\.type: authorization type cannot be set to "basic"/,
  ],
  [
    'unknown field',
    `${BASE}    webhook_configs:\n      - url: http://x/\n        http_config:\n          tls_confg: {}\n`,
    /^am\.yml:8: .*http_config\.tls_confg: field tls_confg not found/,
  ],
  [
    'email has no http_config',
    `${BASE}    email_configs:\n      - {to: a@b, from: c@d, smarthost: 'h:25', http_config: {}}\n`,
    /^am\.yml:6: receivers\.0\.email_configs\.0\.http_config: field http_config not found/,
  ],
];

for (const [what, text, want] of bad) {
  test(`config error names file and line: ${what}`, () => {
    assert.match(configError(text).message, want);
  });
}
