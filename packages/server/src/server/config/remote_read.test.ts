import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from './config.js';
import { effectiveConfigYaml } from './effective.js';

test("remote_read: an entry with only a url gets Prometheus' defaults", () => {
  const cfg = parseConfig('remote_read:\n  - url: http://127.0.0.1:9090/api/v1/read\n', 'v.yml');
  assert.equal(cfg.remoteRead.length, 1);
  const r = cfg.remoteRead[0]!;
  assert.equal(r.remoteTimeoutMs, 60_000);
  assert.equal(r.readRecent, false);
  assert.equal(r.filterExternalLabels, true);
  assert.deepEqual(r.requiredMatchers, {});
  assert.match(r.name, /^[0-9a-f]{6}$/, 'an unnamed entry is named by a hash of it');
  assert.deepEqual(cfg.warnings, [], 'no longer "not supported yet"');
});

test('remote_read: every field is read, the HTTP client fields included, and shown in the effective configuration with secrets hidden', () => {
  const cfg = parseConfig(
    [
      'remote_read:',
      '  - url: https://prom.example/api/v1/read',
      '    name: old',
      '    remote_timeout: 10s',
      '    read_recent: true',
      '    required_matchers: { team: a }',
      '    filter_external_labels: false',
      '    headers: { X-Scope-OrgID: team-a }',
      '    basic_auth: { username: vigil, password: hunter2 }',
      '',
    ].join('\n'),
    'v.yml',
  );
  const r = cfg.remoteRead[0]!;
  assert.deepEqual(
    { ...r, httpClient: undefined },
    {
      url: 'https://prom.example/api/v1/read',
      name: 'old',
      remoteTimeoutMs: 10_000,
      headers: { 'X-Scope-OrgID': 'team-a' },
      readRecent: true,
      requiredMatchers: { team: 'a' },
      filterExternalLabels: false,
      httpClient: undefined,
    },
  );
  assert.equal(r.httpClient.basicAuth?.password, 'hunter2');
  const shown = effectiveConfigYaml(cfg);
  assert.match(shown, /remote_read:\n {2}- url: https:\/\/prom\.example\/api\/v1\/read/);
  assert.match(shown, /read_recent: true/);
  assert.doesNotMatch(shown, /hunter2/);
});

test('remote_read: mistakes are refused with the file, line and field', () => {
  const bad: Array<[string, RegExp]> = [
    ['remote_read: {url: x}', /remote_read: expected a list/],
    ['remote_read:\n  - name: a', /remote_read\.0\.url: url for remote_read is empty/],
    ['remote_read:\n  - url: ftp://h/read', /expected an http or https URL/],
    ['remote_read:\n  - url: http://u:p@h/read', /credentials in basic_auth/],
    ['remote_read:\n  - url: http://h/read\n    read_recent: yes please', /read_recent: expected true or false/],
    ['remote_read:\n  - url: http://h/read\n    required_matchers: { 0bad: x }', /invalid label name/],
    ['remote_read:\n  - url: http://h/read\n    headers: { Content-Encoding: gzip }', /reserved header/],
    ['remote_read:\n  - url: http://h/read\n    remote_timeout: 0s', /positive duration/],
    ['remote_read:\n  - url: http://h/read\n    sigv4: {}', /remote_read\.0\.sigv4: unknown field/],
    ['remote_read:\n  - { url: http://h/a, name: x }\n  - { url: http://h/b, name: x }', /duplicate remote read configs/],
    ['storage:\n  type: remote\n  remote: { url: http://vm:8428 }\nremote_read:\n  - url: http://h/read', /remote_read: .*storage\.type: remote/],
  ];
  for (const [yaml, want] of bad) {
    assert.throws(
      () => parseConfig(yaml, 'v.yml'),
      (err: unknown) => err instanceof ConfigError && want.test(err.message) && /^v\.yml:\d+: /.test(err.message),
      yaml,
    );
  }
});
