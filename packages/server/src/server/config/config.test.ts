import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseByteSize, parseConfig, DEFAULT_LISTEN } from './config.js';

test('defaults listen on loopback on a port no peer uses', () => {
  const cfg = parseConfig('', 'empty.yml');
  assert.equal(cfg.listen, DEFAULT_LISTEN);
  assert.match(cfg.listen, /^127\.0\.0\.1:/);
  const port = Number(cfg.listen.split(':')[1]);
  assert.ok(![9090, 9093, 3000, 3100, 9100].includes(port));
});

test('reads every field', () => {
  const cfg = parseConfig('listen: 0.0.0.0:9999\nstorage:\n  path: /var/lib/vigil\n  retention: 30d\n  retention_size: 10GB\nremote_write_receiver:\n  max_body_size: 8MB\n', 'a.yml');
  assert.equal(cfg.listen, '0.0.0.0:9999');
  assert.equal(cfg.storage.path, '/var/lib/vigil');
  assert.equal(cfg.storage.retentionMs, 30 * 24 * 3600_000);
  assert.equal(cfg.storage.retentionBytes, 10 * 1024 ** 3);
  assert.equal(cfg.remoteWrite.maxBodyBytes, 8 * 1024 ** 2);
});

const cases: Array<[string, string, RegExp]> = [
  ['storage:\n  retention: soon\n', 'storage.retention', /^c\.yml:2: storage\.retention: /],
  ['storage:\n  path: x\n  colour: red\n', 'storage.colour', /^c\.yml:3: storage\.colour: unknown field/],
  ['listen: 9466\n', 'listen', /^c\.yml:1: listen: /],
  ['storage:\n  retention_size: lots\n', 'storage.retention_size', /^c\.yml:2: .*invalid size/],
  ['storage: [1, 2]\n', 'storage', /^c\.yml:1: storage: expected a mapping/],
  ['storage:\n  path: a\n  path: b\n', '', /^c\.yml:3: invalid YAML/],
  ['a: [\n', '', /^c\.yml:\d+: invalid YAML/],
];

for (const [text, field, re] of cases) {
  test(`names the file, line and field: ${JSON.stringify(text)}`, () => {
    assert.throws(
      () => parseConfig(text, 'c.yml'),
      (err: unknown) => err instanceof ConfigError && err.field === field && re.test(err.message),
    );
  });
}

test('byte sizes use binary multiples', () => {
  assert.equal(parseByteSize('512MB'), 512 * 1024 * 1024);
  assert.equal(parseByteSize('1kb'), 1024);
  assert.throws(() => parseByteSize('12 parsecs'));
});

test('web: CORS origin, external URL, allowed hosts and the connection limit, with errors naming the field', () => {
  assert.deepEqual(parseConfig('', 'empty.yml').web, { corsOrigin: undefined, externalUrl: undefined, allowedHosts: [], maxConnections: 512 });
  const cfg = parseConfig("web:\n  cors_origin: 'https://g\\.example'\n  external_url: https://vigil.example\n  allowed_hosts: [a.example]\n  max_connections: 64\n", 'w.yml');
  assert.deepEqual(cfg.web, { corsOrigin: 'https://g\\.example', externalUrl: 'https://vigil.example', allowedHosts: ['a.example'], maxConnections: 64 });
  for (const [yaml, field] of [
    ["web:\n  cors_origin: '('\n", 'web.cors_origin'],
    ['web:\n  external_url: ftp://x\n', 'web.external_url'],
    ['web:\n  max_connections: 0\n', 'web.max_connections'],
    ['web:\n  allowed_hosts: a.example\n', 'web.allowed_hosts'],
    ['web:\n  max_conns: 5\n', 'web.max_conns'],
  ]) {
    assert.throws(() => parseConfig(yaml!, 'w.yml'), (err: unknown) => err instanceof ConfigError && err.message.includes(field!), yaml);
  }
});
