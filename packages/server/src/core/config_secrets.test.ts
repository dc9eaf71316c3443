import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactSecrets, redactUrlPassword, redactYaml } from './config_secrets.js';

test("a proxy_url's password is shown as xxxxx, the rest as written, as Go's url.Redacted prints it", () => {
  assert.equal(redactUrlPassword('http://user:s3cret@proxy.example:3128'), 'http://user:xxxxx@proxy.example:3128');
  assert.equal(redactUrlPassword('http://user:p%40ss@proxy:3128/path?q=1'), 'http://user:xxxxx@proxy:3128/path?q=1');
  // An unescaped @ in the password: the user info ends at the last @ of the authority.
  assert.equal(redactUrlPassword('http://user:p@ss@proxy:3128'), 'http://user:xxxxx@proxy:3128');
  assert.equal(redactUrlPassword('http://user:@proxy:3128'), 'http://user:xxxxx@proxy:3128');
  // Nothing to hide: no password, or no user info at all (an @ later in the URL is not user info).
  assert.equal(redactUrlPassword('http://user@proxy:3128'), 'http://user@proxy:3128');
  assert.equal(redactUrlPassword('http://proxy:3128/a@b'), 'http://proxy:3128/a@b');
  // Not a URL but with an @: it may be a mistyped one with a password, so none of it is shown.
  assert.equal(redactUrlPassword('user:pass@proxy:3128'), '<secret>');
  assert.equal(redactUrlPassword('proxy:3128'), 'proxy:3128');
});

test('redactSecrets hides proxy_url passwords wherever they are, and redactYaml too', () => {
  const cfg = {
    scrape_configs: [
      { job_name: 'a', proxy_url: 'http://u:scrape-proxy-pass@p:1', http_sd_configs: [{ url: 'http://sd/', proxy_url: 'http://u:sd-pass@p:1' }] },
    ],
    alertmanager_config: { receivers: [{ name: 'r', webhook_configs: [{ url: 'http://hook/', http_config: { proxy_url: 'http://u:hook-pass@p:1' } }] }] },
  };
  const out = JSON.stringify(redactSecrets(cfg));
  for (const s of ['scrape-proxy-pass', 'sd-pass', 'hook-pass']) assert.ok(!out.includes(s), out);
  assert.equal((out.match(/http:\/\/u:xxxxx@p:1/g) ?? []).length, 3);
  const yaml = redactYaml('global:\n  http_config:\n    proxy_url: http://u:global-pass@p:1\n');
  assert.equal(yaml, 'global:\n  http_config:\n    proxy_url: http://u:xxxxx@p:1\n');
});
