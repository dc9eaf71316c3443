import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_GLOBAL, parseGlobalConfig, parseScrapeConfigs, parseSize, ScrapeConfigError } from './config.js';

const yaml = `
global:
  scrape_interval: 15s
  external_labels: { region: eu }
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['localhost:9100', 'db:9100']
        labels: { env: prod }
  - job_name: app
    scrape_interval: 30s
    scrape_timeout: 5s
    metrics_path: /m
    scheme: https
    params: { module: [http_2xx] }
    honor_labels: true
    honor_timestamps: false
    basic_auth: { username: u, password_file: secrets/pw }
    tls_config: { ca_file: ca.pem, insecure_skip_verify: true, server_name: example }
    sample_limit: 1000
    label_limit: 30
    body_size_limit: 10MB
    file_sd_configs:
      - files: ['sd/*.json', 'sd/extra.yml']
        refresh_interval: 1m
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: go_.*
        action: drop
`;

test('a Prometheus scrape section parses with Prometheus defaults', () => {
  const doc = parse(yaml) as { global: unknown; scrape_configs: unknown };
  const g = parseGlobalConfig(doc.global);
  assert.equal(g.scrapeIntervalMs, 15_000);
  assert.equal(g.scrapeTimeoutMs, 10_000);
  assert.equal(g.evaluationIntervalMs, 60_000);
  assert.deepEqual(g.externalLabels, [{ name: 'region', value: 'eu' }]);
  const [node, app] = parseScrapeConfigs(doc.scrape_configs, g, '/etc/vigil');
  assert.ok(node && app);
  assert.equal(node.scrapeIntervalMs, 15_000);
  assert.equal(node.metricsPath, '/metrics');
  assert.equal(node.scheme, 'http');
  assert.equal(node.honorTimestamps, true);
  assert.deepEqual(node.staticConfigs, [{ source: '0', targets: [{ __address__: 'localhost:9100' }, { __address__: 'db:9100' }], labels: { env: 'prod' } }]);
  assert.equal(app.scrapeTimeoutMs, 5000);
  assert.equal(app.scheme, 'https');
  assert.deepEqual(app.params, { module: ['http_2xx'] });
  assert.equal(app.honorLabels, true);
  assert.equal(app.honorTimestamps, false);
  assert.deepEqual(app.basicAuth, { username: 'u', passwordFile: path.resolve('/etc/vigil/secrets/pw') });
  assert.deepEqual(app.tlsConfig, { caFile: '/etc/vigil/ca.pem', insecureSkipVerify: true, serverName: 'example' });
  assert.equal(app.bodySizeLimit, 10 * 1024 * 1024);
  assert.deepEqual(app.fileSdConfigs, [{ files: ['/etc/vigil/sd/*.json', '/etc/vigil/sd/extra.yml'], refreshIntervalMs: 60_000 }]);
  assert.equal(app.relabelConfigs.length, 1);
  assert.equal(app.metricRelabelConfigs[0]!.action, 'drop');
});

test('the global timeout is capped by a shorter scrape interval', () => {
  const [c] = parseScrapeConfigs([{ job_name: 'a', scrape_interval: '5s' }], DEFAULT_GLOBAL, '/');
  assert.equal(c!.scrapeTimeoutMs, 5000);
  assert.equal(parseGlobalConfig(undefined).scrapeIntervalMs, 60_000);
});

const bad: Array<[string, unknown, Array<string | number>, RegExp]> = [
  [
    'timeout above interval',
    [{ job_name: 'a' }, { job_name: 'b', scrape_interval: '10s', scrape_timeout: '20s' }],
    ['scrape_configs', 1, 'scrape_timeout'],
    /greater than scrape interval/,
  ],
  ['duplicate job', [{ job_name: 'a' }, { job_name: 'a' }], ['scrape_configs', 1, 'job_name'], /multiple scrape configs/],
  ['missing job', [{}], ['scrape_configs', 0, 'job_name'], /empty/],
  ['bad duration', [{ job_name: 'a', scrape_interval: '10x' }], ['scrape_configs', 0, 'scrape_interval'], /duration/],
  ['unknown field', [{ job_name: 'a', scrape_intreval: '10s' }], ['scrape_configs', 0, 'scrape_intreval'], /not found/],
  ['unsupported sd', [{ job_name: 'a', kubernetes_sd_configs: [] }], ['scrape_configs', 0, 'kubernetes_sd_configs'], /not supported/],
  ['bad scheme', [{ job_name: 'a', scheme: 'ftp' }], ['scrape_configs', 0, 'scheme'], /unsupported scheme/],
  ['two auths', [{ job_name: 'a', basic_auth: { username: 'u' }, authorization: { credentials: 'x' } }], ['scrape_configs', 0, 'authorization'], /at most one/],
  ['basic as authorization', [{ job_name: 'a', authorization: { type: 'Basic' } }], ['scrape_configs', 0, 'authorization', 'type'], /basic_auth/],
  [
    'bad relabel regex',
    [{ job_name: 'a', relabel_configs: [{ action: 'keep' }, { regex: 'a(' }] }],
    ['scrape_configs', 0, 'relabel_configs', 1, 'regex'],
    /error parsing regexp: missing closing \)/,
  ],
  [
    'bad file_sd name',
    [{ job_name: 'a', file_sd_configs: [{ files: ['x.txt'] }] }],
    ['scrape_configs', 0, 'file_sd_configs', 0, 'files', 0],
    /not valid for file discovery/,
  ],
  [
    'bad target label name',
    [{ job_name: 'a', static_configs: [{ targets: ['h:1'], labels: { 'a-b': 'x' } }] }],
    ['scrape_configs', 0, 'static_configs', 0, 'labels', 'a-b'],
    /label name/,
  ],
  ['bad size', [{ job_name: 'a', body_size_limit: '10 parsecs' }], ['scrape_configs', 0, 'body_size_limit'], /invalid size/],
  ['negative limit', [{ job_name: 'a', sample_limit: -1 }], ['scrape_configs', 0, 'sample_limit'], /non-negative/],
];

for (const [what, raw, wantPath, wantMsg] of bad) {
  test(`config error: ${what} names the field`, () => {
    assert.throws(
      () => parseScrapeConfigs(raw, DEFAULT_GLOBAL, '/'),
      (e: unknown) => {
        assert.ok(e instanceof ScrapeConfigError, String(e));
        assert.deepEqual(e.path, wantPath);
        assert.match(e.message, wantMsg);
        return true;
      },
    );
  });
}

test('global errors carry the global path', () => {
  assert.throws(
    () => parseGlobalConfig({ scrape_interval: '5s', scrape_timeout: '10s' }),
    (e: unknown) => e instanceof ScrapeConfigError && e.path.join('.') === 'global.scrape_timeout',
  );
});

test('sizes are binary multiples', () => {
  assert.equal(parseSize('10MB'), 10485760);
  assert.equal(parseSize('1KiB'), 1024);
  assert.equal(parseSize('512'), 512);
  assert.throws(() => parseSize('1XB'));
});

test('every unsupported service discovery is named in one error, pointing at the first', () => {
  const raw = [
    { job_name: 'k8s', kubernetes_sd_configs: [{ role: 'pod' }] },
    { job_name: 'node', static_configs: [{ targets: ['h:9100'] }] },
    { job_name: 'svc', consul_sd_configs: [{}], ec2_sd_configs: [{}] },
  ];
  assert.throws(
    () => parseScrapeConfigs(raw, DEFAULT_GLOBAL, '/'),
    (e: unknown) => {
      assert.ok(e instanceof ScrapeConfigError);
      assert.deepEqual(e.path, ['scrape_configs', 0, 'kubernetes_sd_configs']);
      assert.equal(
        e.message,
        'scrape_configs[0].kubernetes_sd_configs: not supported by Vigil: kubernetes_sd_configs (job "k8s"), consul_sd_configs (job "svc"), ec2_sd_configs (job "svc"); use static_configs, file_sd_configs, http_sd_configs or dns_sd_configs',
      );
      return true;
    },
  );
});
