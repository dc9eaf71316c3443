import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from './config.js';
import { effectiveConfigYaml } from './effective.js';

test("remote_write: an entry with only a url gets Prometheus' queue and metadata defaults", () => {
  const [rw, ...rest] = parseConfig('remote_write:\n  - url: http://127.0.0.1:8428/api/v1/write\n', 'v.yml').remoteWriteTo;
  assert.equal(rest.length, 0);
  assert.deepEqual(rw!.queue, {
    capacity: 10000,
    maxShards: 50,
    minShards: 1,
    maxSamplesPerSend: 2000,
    batchSendDeadlineMs: 5000,
    minBackoffMs: 30,
    maxBackoffMs: 5000,
    retryOnHttp429: true,
    sampleAgeLimitMs: 0,
  });
  assert.deepEqual(rw!.metadata, { send: true, sendIntervalMs: 60000, maxSamplesPerSend: 500 });
  assert.equal(rw!.remoteTimeoutMs, 30000);
  assert.equal(rw!.protobufMessage, 'prometheus.WriteRequest');
  assert.match(rw!.name, /^[0-9a-f]{6}$/, 'an unnamed queue is named by a hash of its entry');
  assert.equal(
    parseConfig('remote_write:\n  - url: http://127.0.0.1:8428/api/v1/write\n', 'w.yml').remoteWriteTo[0]!.name,
    rw!.name,
    'the same entry, the same name',
  );
});

test('remote_write: every field is read, the http_config fields included, and shown in the effective configuration', () => {
  const cfg = parseConfig(
    [
      'remote_write:',
      '  - url: https://vm.example/api/v1/write',
      '    name: vm',
      '    remote_timeout: 10s',
      '    headers: { X-Scope-OrgID: team-a }',
      '    write_relabel_configs:',
      "      - { source_labels: [__name__], regex: 'go_.*', action: drop }",
      '    basic_auth: { username: vigil, password: s3cret }',
      '    tls_config: { insecure_skip_verify: true }',
      '    queue_config: { capacity: 500, max_shards: 4, min_shards: 2, max_samples_per_send: 100, batch_send_deadline: 1s, min_backoff: 10ms, max_backoff: 2s, retry_on_http_429: false, sample_age_limit: 5m }',
      '    metadata_config: { send: false, send_interval: 30s, max_samples_per_send: 50 }',
      '    wal_retention_size: 1GB',
      '',
    ].join('\n'),
    'v.yml',
  );
  const rw = cfg.remoteWriteTo[0]!;
  assert.equal(rw.name, 'vm');
  assert.equal(rw.remoteTimeoutMs, 10000);
  assert.deepEqual(rw.headers, { 'X-Scope-OrgID': 'team-a' });
  assert.equal(rw.writeRelabelConfigs[0]!.action, 'drop');
  assert.equal(rw.httpClient.basicAuth?.username, 'vigil');
  assert.equal(rw.httpClient.tlsConfig.insecureSkipVerify, true);
  assert.deepEqual(rw.queue, {
    capacity: 500,
    maxShards: 4,
    minShards: 2,
    maxSamplesPerSend: 100,
    batchSendDeadlineMs: 1000,
    minBackoffMs: 10,
    maxBackoffMs: 2000,
    retryOnHttp429: false,
    sampleAgeLimitMs: 300000,
  });
  assert.deepEqual(rw.metadata, { send: false, sendIntervalMs: 30000, maxSamplesPerSend: 50 });
  assert.equal(rw.walRetentionBytes, 1024 ** 3);
  const shown = effectiveConfigYaml(cfg);
  assert.match(shown, /max_shards: 4/);
  assert.match(shown, /wal_retention_size: 1GB/);
  assert.doesNotMatch(shown, /s3cret/, 'secrets are hidden');
});

test('remote_write: mistakes are refused with the file, line and field', () => {
  const cases: Array<[string, RegExp]> = [
    ['remote_write:\n  - name: x\n', /v\.yml:2: remote_write\.0\.url: url for remote_write is empty/],
    ['remote_write:\n  - url: ftp://x/\n', /remote_write\.0\.url: expected an http or https URL/],
    ['remote_write:\n  - url: http://x/\n    headers: { Authorization: x }\n', /remote_write\.0\.headers\.Authorization: Authorization is a reserved header/],
    [
      'remote_write:\n  - url: http://x/\n    protobuf_message: io.prometheus.write.v3.Request\n',
      /remote_write\.0\.protobuf_message: unknown protobuf message/,
    ],
    ['remote_write:\n  - url: http://x/\n    queue_config: { min_shards: 5, max_shards: 2 }\n', /min_shards \(5\) must not exceed max_shards \(2\)/],
    ['remote_write:\n  - url: http://x/\n    queue_config: { capacity: 0 }\n', /remote_write\.0\.queue_config\.capacity: expected a whole number >= 1/],
    ['remote_write:\n  - url: http://x/\n    queue_config: { batch_send_deadline: soon }\n', /remote_write\.0\.queue_config\.batch_send_deadline/],
    ['remote_write:\n  - url: http://x/\n    queue_config: { shards: 3 }\n', /remote_write\.0\.queue_config\.shards: unknown field/],
    ['remote_write:\n  - url: http://x/\n    write_relabel_configs: [{ action: nope }]\n', /remote_write\.0\.write_relabel_configs\.0\.action/],
    ['remote_write:\n  - url: http://x/\n    sigv4: { region: eu-west-1 }\n', /sigv4 is not supported/],
    [
      'remote_write:\n  - { url: http://a/, name: q }\n  - { url: http://b/, name: q }\n',
      /duplicate remote write configs are not allowed, found duplicate for name: q/,
    ],
    ['remote_write:\n  - { url: http://a/, name: ../x }\n', /remote_write\.0\.name: expected letters/],
  ];
  for (const [yaml, want] of cases)
    assert.throws(
      () => parseConfig(yaml, 'v.yml'),
      (err: unknown) => err instanceof ConfigError && want.test(err.message),
      yaml,
    );
});

test('remote_write: send_exemplars is read, without a warning', () => {
  const cfg = parseConfig('remote_write:\n  - url: http://x/\n    send_exemplars: true\n', 'v.yml');
  assert.equal(cfg.remoteWriteTo[0]!.sendExemplars, true);
  assert.deepEqual(cfg.warnings, []);
  assert.equal(parseConfig('remote_write:\n  - url: http://x/\n', 'v.yml').remoteWriteTo[0]!.sendExemplars, false);
});
