import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseByteSize, parseConfig, DEFAULT_LISTEN } from './config.js';
import { defaultLimits } from './limits.js';

test('defaults listen on loopback on a port no peer uses', () => {
  const cfg = parseConfig('', 'empty.yml');
  assert.equal(cfg.listen, DEFAULT_LISTEN);
  assert.match(cfg.listen, /^127\.0\.0\.1:/);
  const port = Number(cfg.listen.split(':')[1]);
  assert.ok(![9090, 9093, 3000, 3100, 9100].includes(port));
});

test('reads every field', () => {
  const cfg = parseConfig(
    'listen: 0.0.0.0:9999\nstorage:\n  path: /var/lib/vigil\n  retention: 30d\n  retention_size: 10GB\nremote_write_receiver:\n  max_body_size: 8MB\n',
    'a.yml',
  );
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
  ['limits:\n  max_series: 5\n', 'limits.max_series', /^c\.yml:2: limits\.max_series: unknown field; expected one of max_global_series,/],
  ['limits:\n  max_global_series: -1\n', 'limits.max_global_series', /^c\.yml:2: .*a whole number >= 0/],
  ['limits:\n  max_alerts: 1.5\n', 'limits.max_alerts', /a whole number/],
  ['limits:\n  max_line_size: huge\n', 'limits.max_line_size', /invalid size/],
  ['limits:\n  ingestion_rate: 5000000\n', 'limits.ingestion_burst_size', /at least ingestion_rate/],
  ['query:\n  max_concurrency: 0\n', 'query.max_concurrency', /^c\.yml:2: query\.max_concurrency: expected a whole number >= 1/],
  ['query:\n  timeout: soon\n', 'query.timeout', /^c\.yml:2: query\.timeout: /],
  ['query:\n  max_samples: 1.5\n', 'query.max_samples', /a whole number >= 1/],
  ['query:\n  max_bytes_read: lots\n', 'query.max_bytes_read', /invalid size/],
  ['query:\n  lookback: 5m\n', 'query.lookback', /unknown field; expected one of max_concurrency, queue_timeout, timeout, max_samples, max_bytes_read/],
  ['memory_budget: 1MB\n', 'memory_budget', /too small: at least 256MB/],
];

for (const [text, field, re] of cases) {
  test(`names the file, line and field: ${JSON.stringify(text)}`, () => {
    assert.throws(
      () => parseConfig(text, 'c.yml'),
      (err: unknown) => err instanceof ConfigError && err.field === field && re.test(err.message),
    );
  });
}

test('limits: production defaults, overridable one by one, sizes with units, MiB rates fractional', () => {
  const d = parseConfig('', 'empty.yml').limits;
  assert.equal(d.max_global_series, 1_000_000);
  assert.equal(d.max_global_series_per_metric, 200_000);
  assert.equal(d.max_streams, 100_000);
  assert.equal(d.max_line_size, 256 * 1024);
  const cfg = parseConfig(
    'limits:\n  max_global_series: 0\n  max_line_size: 1MB\n  ingestion_rate_mb: 0.5\n  ingestion_burst_size_mb: 1\n  max_silences: 3\n',
    'l.yml',
  ).limits;
  assert.equal(cfg.max_global_series, 0, '0 turns a limit off');
  assert.equal(cfg.max_line_size, 1024 * 1024);
  assert.equal(cfg.ingestion_rate_mb, 0.5);
  assert.equal(cfg.max_silences, 3);
  assert.equal(cfg.max_alerts, d.max_alerts, 'the others keep their defaults');
  assert.equal(d.max_attribute_bytes, 2048);
  const traces = parseConfig('limits:\n  max_attribute_bytes: 1KB\n  max_spans_per_trace: 10\n  traces_ingestion_rate: 0\n', 't.yml').limits;
  assert.deepEqual([traces.max_attribute_bytes, traces.max_spans_per_trace, traces.traces_ingestion_rate], [1024, 10, 0]);
});

test('byte sizes use binary multiples', () => {
  assert.equal(parseByteSize('512MB'), 512 * 1024 * 1024);
  assert.equal(parseByteSize('1kb'), 1024);
  assert.throws(() => parseByteSize('12 parsecs'));
});

test("README's configuration example documents every limit with its default", () => {
  const readme = fs.readFileSync(fileURLToPath(new URL('../../../../../README.md', import.meta.url)), 'utf8');
  const example = readme.split('```yaml')[1]!.split('```')[0]!;
  const limits = parseConfig(example, 'README.md').limits;
  assert.deepEqual(limits, defaultLimits(), 'the example shows the defaults');
  for (const name of Object.keys(defaultLimits())) assert.match(example, new RegExp(`^  ${name}: .*# `, 'm'), `${name} has a comment`);
});

test('a relative storage.path resolves against the configuration file, an absolute one stays', () => {
  assert.equal(parseConfig('storage:\n  path: data\n', '/etc/vigil/vigil.yml').storage.path, '/etc/vigil/data');
  assert.equal(parseConfig('storage:\n  path: ../var/vigil\n', '/etc/vigil/vigil.yml').storage.path, '/etc/var/vigil');
  assert.equal(parseConfig('storage:\n  path: /srv/vigil\n', '/etc/vigil/vigil.yml').storage.path, '/srv/vigil');
  // Without the field, the default stays relative to the working directory, as --data is.
  assert.equal(parseConfig('', '/etc/vigil/vigil.yml').storage.path, 'data');
});

test('web: CORS origin, external URL, allowed hosts and the connection limit, with errors naming the field', () => {
  const off = { configFile: undefined, enableAdminApi: false, enableLifecycle: false };
  assert.deepEqual(parseConfig('', 'empty.yml').web, { corsOrigin: undefined, externalUrl: undefined, allowedHosts: [], maxConnections: 512, ...off });
  const cfg = parseConfig(
    "web:\n  cors_origin: 'https://g\\.example'\n  external_url: https://vigil.example\n  allowed_hosts: [a.example]\n  max_connections: 64\n",
    'w.yml',
  );
  assert.deepEqual(cfg.web, {
    corsOrigin: 'https://g\\.example',
    externalUrl: 'https://vigil.example',
    allowedHosts: ['a.example'],
    maxConnections: 64,
    ...off,
  });
  // The web configuration file is relative to this file's directory, like every path in it.
  const on = parseConfig('web:\n  config_file: web.yml\n  enable_admin_api: true\n  enable_lifecycle: true\n', '/etc/vigil/vigil.yml').web;
  assert.deepEqual([on.configFile, on.enableAdminApi, on.enableLifecycle], ['/etc/vigil/web.yml', true, true]);
  for (const [yaml, field] of [
    ["web:\n  cors_origin: '('\n", 'web.cors_origin'],
    ['web:\n  external_url: ftp://x\n', 'web.external_url'],
    ['web:\n  max_connections: 0\n', 'web.max_connections'],
    ['web:\n  allowed_hosts: a.example\n', 'web.allowed_hosts'],
    ['web:\n  max_conns: 5\n', 'web.max_conns'],
    ['web:\n  enable_lifecycle: yes please\n', 'web.enable_lifecycle'],
  ]) {
    assert.throws(
      () => parseConfig(yaml!, 'w.yml'),
      (err: unknown) => err instanceof ConfigError && err.message.includes(field!),
      yaml,
    );
  }
});

test("a pasted prometheus.yml's alerting and remote_write sections are read", () => {
  const yaml = [
    'global:',
    '  scrape_interval: 15s',
    'alerting:',
    '  alertmanagers:',
    '    - static_configs:',
    "        - targets: ['127.0.0.1:9093']",
    'remote_write:',
    '  - url: http://127.0.0.1:8428/api/v1/write',
    'scrape_configs:',
    '  - job_name: node',
    '    static_configs:',
    "      - targets: ['127.0.0.1:9100']",
    '',
  ].join('\n');
  const cfg = parseConfig(yaml, 'prometheus.yml');
  assert.equal(cfg.scrapeConfigs.length, 1);
  assert.deepEqual(cfg.warnings, []);
  assert.deepEqual(cfg.alerting.alertmanagers[0]!.staticConfigs[0]!.targets, [{ __address__: '127.0.0.1:9093' }]);
  assert.equal(cfg.alerting.builtinRouter, true);
  assert.deepEqual(
    cfg.remoteWriteTo.map((r) => r.url),
    ['http://127.0.0.1:8428/api/v1/write'],
  );
  assert.deepEqual(parseConfig('global:\n  scrape_interval: 15s\n', 'v.yml').warnings, []);
  assert.throws(() => parseConfig('alerts:\n  x: 1\n', 'v.yml'), /v\.yml:\d+: alerts: unknown field/);
});

test('discovery.dns_servers takes IP, IP:PORT and [IPv6]:PORT, reaches dns_sd_configs, and names a bad entry by file and line', () => {
  assert.deepEqual(parseConfig('', 'empty.yml').discovery, { dnsServers: [] });
  const cfg = parseConfig(
    "discovery:\n  dns_servers: ['127.0.0.1:5353', '10.0.0.2', '[::1]:53']\nscrape_configs:\n  - job_name: d\n    dns_sd_configs:\n      - names: [_x._tcp.test]\n",
    'd.yml',
  );
  assert.deepEqual(cfg.discovery.dnsServers, ['127.0.0.1:5353', '10.0.0.2', '[::1]:53']);
  assert.deepEqual(cfg.scrapeConfigs[0]!.dnsSdConfigs[0]!.servers, ['127.0.0.1:5353', '10.0.0.2', '[::1]:53']);
  assert.throws(
    () => parseConfig("discovery:\n  dns_servers: ['dns.example:53']\n", 'd.yml'),
    (err: unknown) => err instanceof ConfigError && /d\.yml:2.*discovery\.dns_servers\.0: invalid DNS server "dns\.example:53"/.test(err.message),
  );
  assert.throws(
    () => parseConfig("discovery:\n  dns_servers: ['127.0.0.1:70000']\n", 'd.yml'),
    (err: unknown) => err instanceof ConfigError && err.message.includes('invalid DNS server'),
  );
});

test("query: Prometheus' defaults, each overridable; memory_budget defaults to 75% of the machine", () => {
  const d = parseConfig('', 'empty.yml');
  assert.deepEqual(d.query, { maxConcurrency: 20, queueTimeoutMs: 30_000, timeoutMs: 120_000, maxSamples: 50_000_000, maxBytesRead: 0 });
  assert.ok(d.memoryBudget > 0);
  const c = parseConfig(
    'memory_budget: 4GB\nquery:\n  max_concurrency: 4\n  queue_timeout: 5s\n  timeout: 30s\n  max_samples: 1000000\n  max_bytes_read: 100MB\n',
    'c.yml',
  );
  assert.equal(c.memoryBudget, 4 * 1024 ** 3);
  assert.deepEqual(c.query, { maxConcurrency: 4, queueTimeoutMs: 5000, timeoutMs: 30_000, maxSamples: 1_000_000, maxBytesRead: 100 * 1024 ** 2 });
});

test('otlp: the gRPC listener address and message size, the metrics translation settings; the rest of prometheus.yml OTLP settings warn', () => {
  assert.equal(parseConfig('', 'o.yml').otlp.grpcListenAddress, '');
  const cfg = parseConfig(
    'otlp:\n  grpc_listen_address: 127.0.0.1:4317\n  grpc_max_message_size: 8MB\n  promote_resource_attributes: [service.version]\n  translation_strategy: NoTranslation\n  keep_identifying_resource_attributes: true\n  convert_histograms_to_nhcb: true\n',
    'o.yml',
  );
  assert.equal(cfg.otlp.grpcListenAddress, '127.0.0.1:4317');
  assert.equal(cfg.otlp.grpcMaxMessageBytes, 8 * 1024 ** 2);
  assert.deepEqual(cfg.otlp.promoteResourceAttributes, ['service.version']);
  assert.equal(cfg.otlp.translationStrategy, 'NoTranslation');
  assert.equal(cfg.otlp.keepIdentifyingResourceAttributes, true);
  assert.equal(parseConfig('', 'o.yml').otlp.translationStrategy, 'UnderscoreEscapingWithSuffixes');
  assert.equal(cfg.warnings.length, 2);
  assert.match(cfg.warnings[0]!, /^o\.yml:5: otlp\.translation_strategy: NoTranslation keeps names unescaped, but the TSDB takes only/);
  assert.equal(cfg.warnings[1], 'o.yml:7: otlp.convert_histograms_to_nhcb: not supported yet; ignored');
  assert.throws(() => parseConfig('otlp:\n  translation_strategy: Escape\n', 'o.yml'), /o\.yml:2: otlp\.translation_strategy: unknown strategy "Escape"/);
  assert.throws(() => parseConfig('otlp:\n  promote_resource_attributes: [a, a]\n', 'o.yml'), /duplicate attribute "a"/);
  assert.throws(() => parseConfig('otlp:\n  grpc_listen_address: nowhere\n', 'o.yml'), /o\.yml:2: otlp\.grpc_listen_address: /);
  assert.throws(() => parseConfig('otlp:\n  grpc_port: 4317\n', 'o.yml'), /otlp\.grpc_port: unknown field/);
});

test('traces.metrics_generator: defaults, fields, and errors naming the line and field', () => {
  const d = parseConfig('', 't.yml').traces.metricsGenerator;
  assert.deepEqual([d.enabled, d.maxActiveSeries, d.flushIntervalMs, d.serviceGraph.waitMs, d.histogramBuckets.length], [true, 100_000, 15_000, 10_000, 14]);
  const g = parseConfig(
    'traces:\n  metrics_generator:\n    dimensions: [http.method]\n    histogram_buckets: [0.1, 1]\n    max_active_series: 500\n    flush_interval: 5s\n    service_graph:\n      wait: 2s\n      max_items: 10\n      dimensions: [env]\n',
    't.yml',
  ).traces.metricsGenerator;
  assert.deepEqual(
    [g.dimensions, g.histogramBuckets, g.maxActiveSeries, g.flushIntervalMs, g.serviceGraph.waitMs, g.serviceGraph.maxItems, g.serviceGraph.dimensions],
    [['http.method'], [0.1, 1], 500, 5000, 2000, 10, ['env']],
  );
  assert.throws(
    () => parseConfig('traces:\n  metrics_generator:\n    histogram_buckets: [1, 0.5]\n', 't.yml'),
    /t\.yml:3: traces\.metrics_generator\.histogram_buckets\.1: bucket bounds must increase/,
  );
  assert.throws(
    () => parseConfig('traces:\n  metrics_generator:\n    dimensions: [service]\n', 't.yml'),
    /dimensions\.0: "service" would overwrite the label service/,
  );
  assert.throws(
    () => parseConfig('traces:\n  metrics_generator:\n    service_graph: { wait: 0s }\n', 't.yml'),
    /service_graph\.wait: expected a positive duration/,
  );
  assert.throws(() => parseConfig('traces:\n  metrics_generator:\n    max_series: 3\n', 't.yml'), /unknown field/);
  assert.equal(d.staleMs, 900_000, "Tempo's stale_duration, 15m");
  assert.equal(parseConfig('traces:\n  metrics_generator:\n    stale_duration: 2m\n', 't.yml').traces.metricsGenerator.staleMs, 120_000);
  assert.equal(parseConfig('traces:\n  metrics_generator:\n    stale_duration: 0\n', 't.yml').traces.metricsGenerator.staleMs, 0);
  assert.throws(
    () => parseConfig('traces:\n  metrics_generator:\n    flush_interval: 30s\n    stale_duration: 10s\n', 't.yml'),
    /t\.yml:4: traces\.metrics_generator\.stale_duration: expected 0 \(never\) or at least flush_interval \(30s\)/,
  );
  assert.throws(() => parseConfig('traces:\n  metrics_generator:\n    stale_duration: soon\n', 't.yml'), /stale_duration: .*not a valid duration/);
  assert.equal(d.ingestionSlackMs, 0, 'every span counts unless a slack is set');
  const slack = parseConfig('traces:\n  metrics_generator:\n    metrics_ingestion_time_range_slack: 30s\n', 't.yml').traces.metricsGenerator;
  assert.equal(slack.ingestionSlackMs, 30_000);
  assert.throws(
    () => parseConfig('traces:\n  metrics_generator:\n    metrics_ingestion_time_range_slack: -5s\n', 't.yml'),
    /t\.yml:3: traces\.metrics_generator\.metrics_ingestion_time_range_slack: /,
  );
});

test('mode: server by default; agent needs a remote_write receiver; anything else is refused', () => {
  assert.equal(parseConfig('', 'v.yml').mode, 'server');
  assert.equal(parseConfig('mode: agent\nremote_write: [{ url: "http://127.0.0.1:8428/api/v1/write" }]\n', 'v.yml').mode, 'agent');
  assert.throws(
    () => parseConfig('mode: agent\n', 'v.yml'),
    (e: unknown) => e instanceof ConfigError && /v\.yml:1: mode: agent mode needs at least one remote_write receiver/.test(e.message),
  );
  assert.throws(
    () => parseConfig('mode: proxy\n', 'v.yml'),
    (e: unknown) => e instanceof ConfigError && /mode: expected server or agent, got "proxy"/.test(e.message),
  );
});
