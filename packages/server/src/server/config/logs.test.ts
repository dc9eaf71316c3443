import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from './config.js';
import { effectiveConfigYaml } from './effective.js';

test("logs.forward_to: an entry with only a url gets promtail's client defaults, but retries until the receiver takes a batch", () => {
  const cfg = parseConfig('logs:\n  forward_to:\n    - url: http://127.0.0.1:3100/loki/api/v1/push\n', 'v.yml');
  const [f, ...rest] = cfg.logs.forwardTo;
  assert.equal(rest.length, 0);
  assert.equal(f!.batchWaitMs, 1000);
  assert.equal(f!.batchSizeBytes, 1024 * 1024);
  assert.equal(f!.timeoutMs, 10_000);
  assert.deepEqual([f!.minBackoffMs, f!.maxBackoffMs, f!.maxRetries], [500, 300_000, 0]);
  assert.equal(f!.dropRateLimitedBatches, false);
  assert.equal(f!.tenantId, undefined);
  assert.match(f!.name, /^[0-9a-f]{6}$/, 'an unnamed entry is named by a hash of it');
  assert.deepEqual(cfg.logs.storage, { type: 'local' });
  assert.deepEqual(parseConfig('', 'v.yml').logs, { forwardTo: [], storage: { type: 'local' } }, 'nothing forwarded by default');
});

test('logs: every field is read (the HTTP client fields included) and shown in the effective configuration, secrets hidden', () => {
  const cfg = parseConfig(
    [
      'logs:',
      '  forward_to:',
      '    - url: https://loki.example/loki/api/v1/push',
      '      name: loki',
      '      tenant_id: team-a',
      '      headers: { X-Team: a }',
      '      batchwait: 250ms',
      '      batchsize: 64KB',
      '      timeout: 3s',
      '      backoff_config: { min_period: 100ms, max_period: 2s, max_retries: 4 }',
      '      drop_rate_limited_batches: true',
      '      external_labels: { cluster: eu-1, agent: a }',
      '      wal_retention_size: 2GB',
      '      basic_auth: { username: u, password: hunter2 }',
      '  storage:',
      '    type: remote',
      '    remote: { url: http://loki.example:3100/, timeout: 20s }',
    ].join('\n'),
    'v.yml',
  );
  const f = cfg.logs.forwardTo[0]!;
  assert.deepEqual(
    [f.name, f.tenantId, f.headers, f.batchWaitMs, f.batchSizeBytes, f.timeoutMs, f.minBackoffMs, f.maxBackoffMs, f.maxRetries, f.dropRateLimitedBatches],
    ['loki', 'team-a', { 'X-Team': 'a' }, 250, 65536, 3000, 100, 2000, 4, true],
  );
  assert.deepEqual(f.externalLabels, [
    { name: 'agent', value: 'a' },
    { name: 'cluster', value: 'eu-1' },
  ]);
  assert.equal(f.walRetentionBytes, 2 * 1024 ** 3);
  assert.equal(f.httpClient.basicAuth?.username, 'u');
  assert.equal(cfg.logs.storage.type, 'remote');
  assert.equal(cfg.logs.storage.remote?.url, 'http://loki.example:3100');
  assert.equal(cfg.logs.storage.remote?.timeoutMs, 20_000);
  const effective = effectiveConfigYaml(cfg);
  assert.match(effective, /batchsize: 64KB/);
  assert.match(effective, /max_retries: 4/);
  assert.doesNotMatch(effective, /hunter2/);
});

test('logs: mistakes name their field', () => {
  const bad = (yaml: string, field: string, msg: RegExp): void => {
    assert.throws(
      () => parseConfig(yaml, 'v.yml'),
      (e: unknown) => e instanceof ConfigError && e.message.includes(field) && msg.test(e.message),
      yaml,
    );
  };
  bad('logs:\n  forward_to:\n    - name: x\n', 'logs.forward_to.0.url', /push URL/);
  bad('logs:\n  forward_to:\n    - url: ftp://x/\n', 'logs.forward_to.0.url', /http or https/);
  bad('logs:\n  forward_to:\n    - url: http://u:p@x/\n', 'logs.forward_to.0.url', /basic_auth/);
  bad('logs:\n  forward_to:\n    - url: http://x/\n      headers: { X-Scope-OrgID: a }\n', 'logs.forward_to.0.headers.X-Scope-OrgID', /tenant_id/);
  bad('logs:\n  forward_to:\n    - url: http://x/\n      backoff_config: { min_period: 10s, max_period: 1s }\n', 'min_period', /must not exceed/);
  bad('logs:\n  forward_to:\n    - url: http://x/\n      batchsize: lots\n', 'logs.forward_to.0.batchsize', /invalid size/);
  bad('logs:\n  forward_to:\n    - url: http://x/\n      batchwait: 0s\n', 'logs.forward_to.0.batchwait', /positive/);
  bad('logs:\n  forward_to:\n    - url: http://x/\n      name: a\n    - url: http://y/\n      name: a\n', 'logs.forward_to.1.name', /duplicate/);
  bad('logs:\n  forward_to:\n    - url: http://x/\n      clients: []\n', 'logs.forward_to.0.clients', /unknown field/);
  bad('logs:\n  forward_to:\n    - url: http://x/\n      name: ../x\n', 'logs.forward_to.0.name', /letters, digits.*names a file/);
  bad('logs:\n  storage:\n    type: remote\n', 'logs.storage.remote', /needs logs.storage.remote/);
  bad('logs:\n  storage:\n    type: loki\n', 'logs.storage.type', /embedded log store/);
  bad('logs:\n  storage:\n    remote: { url: http://x }\n', 'logs.storage.remote', /needs logs.storage.type: remote/);
});
