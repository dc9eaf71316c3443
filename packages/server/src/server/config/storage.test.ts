// storage.type and storage.remote in vigil.yml: local stays the default, remote is checked field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from './config.js';
import { effectiveConfigYaml } from './effective.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkConfigFiles } from '../cmd/checkconfig.js';
import { captureOutput } from '../../testkit/rules.js';
import { tempDir } from '../../testkit/helpers.js';

const cfg = (storage: string) => parseConfig(`storage:\n${storage}`, '/etc/vigil/vigil.yml');

test('without type, storage is local and has no remote', () => {
  const c = parseConfig('listen: 127.0.0.1:9466\n', '/etc/vigil/vigil.yml');
  assert.equal(c.storage.type, 'local');
  assert.equal(c.storage.remote, undefined);
  assert.equal(cfg('  path: /data\n').storage.type, 'local');
});

test('type: remote reads the URL, timeout, size and Prometheus HTTP client fields', () => {
  const c = cfg(`  type: remote
  remote:
    url: https://vmselect:8481/select/0/prometheus/
    timeout: 30s
    max_response_size: 64MB
    basic_auth: { username: vigil, password_file: secrets/vm }
    tls_config: { ca_file: ca.pem, server_name: vm.internal }
`);
  assert.equal(c.storage.type, 'remote');
  const r = c.storage.remote!;
  assert.equal(r.url, 'https://vmselect:8481/select/0/prometheus');
  assert.equal(r.timeoutMs, 30_000);
  assert.equal(r.maxResponseBytes, 64 * 1024 * 1024);
  assert.deepEqual(r.httpClient.basicAuth, { username: 'vigil', passwordFile: '/etc/vigil/secrets/vm' });
  assert.equal(r.httpClient.tlsConfig.caFile, '/etc/vigil/ca.pem');
  assert.equal(r.httpClient.tlsConfig.serverName, 'vm.internal');
  // Defaults: a minute, 256 MiB.
  const d = cfg('  type: remote\n  remote: { url: "http://vm:8428" }\n').storage.remote!;
  assert.deepEqual([d.timeoutMs, d.maxResponseBytes], [60_000, 256 * 1024 * 1024]);
});

test('the effective configuration shows the remote with its secrets hidden', () => {
  const c = cfg('  type: remote\n  remote:\n    url: http://vm:8428\n    authorization: { credentials: tok3n }\n');
  const y = effectiveConfigYaml(c);
  assert.match(y, /type: remote/);
  assert.match(y, /url: http:\/\/vm:8428/);
  assert.doesNotMatch(y, /tok3n/);
});

test('mistakes name the field and line', () => {
  const bad: Array<[string, RegExp]> = [
    ['  type: cluster\n', /storage\.type: expected local .* or remote/],
    ['  type: remote\n', /storage\.remote: storage\.type: remote needs storage\.remote/],
    ['  remote: { url: "http://vm:8428" }\n', /storage\.remote: storage\.remote needs storage\.type: remote/],
    ['  type: remote\n  remote: { timeout: 5s }\n', /storage\.remote\.url: expected the URL/],
    ['  type: remote\n  remote: { url: "vm:8428:x" }\n', /storage\.remote\.url: (invalid URL|unsupported scheme)/],
    ['  type: remote\n  remote: { url: "ftp://vm" }\n', /unsupported scheme "ftp"/],
    ['  type: remote\n  remote: { url: "http://u:p@vm" }\n', /put credentials in basic_auth/],
    ['  type: remote\n  remote: { url: "http://vm", timeout: 0s }\n', /storage\.remote\.timeout: expected a positive duration/],
    ['  type: remote\n  remote: { url: "http://vm", queue_config: {} }\n', /storage\.remote\.queue_config: unknown field/],
    ['  type: remote\n  remote: { url: "http://vm", basic_auth: { username: a }, bearer_token: t }\n', /at most one of/],
  ];
  for (const [text, re] of bad) {
    assert.throws(
      () => cfg(text),
      (err: unknown) => err instanceof ConfigError && re.test(err.message) && /vigil\.yml:\d+/.test(err.message),
      text,
    );
  }
});

test('vigil check config names the remote that answers queries', async () => {
  const { dir, cleanup } = tempDir('vigil-check-remote-');
  try {
    const file = path.join(dir, 'vigil.yml');
    fs.writeFileSync(file, 'storage:\n  type: remote\n  remote:\n    url: http://vmselect:8481/select/0/prometheus\n');
    const out = captureOutput();
    assert.equal(await checkConfigFiles([file], out), 0, out.stderr);
    assert.match(out.stdout, /SUCCESS: .*, queries answered by remote storage http:\/\/vmselect:8481\/select\/0\/prometheus\n/);
    fs.writeFileSync(file, 'storage:\n  type: remote\n');
    const bad = captureOutput();
    assert.equal(await checkConfigFiles([file], bad), 1);
    assert.match(bad.stderr, /vigil\.yml:\d+: storage\.remote: storage\.type: remote needs storage\.remote/);
  } finally {
    cleanup();
  }
});
