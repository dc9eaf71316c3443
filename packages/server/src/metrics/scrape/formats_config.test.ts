import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { parseGlobalConfig, parseScrapeConfigs, ScrapeConfigError, type ScrapeConfig } from './config.js';
import { settingsOf } from './manager.js';
import { formatForContentType } from './parser/contentType.js';

function jobs(doc: string): ScrapeConfig[] {
  const raw = parse(doc) as { global?: unknown; scrape_configs?: unknown };
  return parseScrapeConfigs(raw.scrape_configs, parseGlobalConfig(raw.global), '/');
}

test('scrape formats: Prometheus defaults, text formats first unless native histograms are scraped', () => {
  const [plain, native] = jobs(`
scrape_configs:
  - job_name: plain
  - job_name: native
    scrape_native_histograms: true
`);
  assert.deepEqual(plain!.scrapeProtocols, ['OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4']);
  assert.equal(plain!.scrapeNativeHistograms, false);
  assert.equal(plain!.alwaysScrapeClassicHistograms, false);
  assert.equal(plain!.convertClassicHistogramsToNhcb, false);
  assert.deepEqual(native!.scrapeProtocols, ['PrometheusProto', 'OpenMetricsText1.0.0', 'OpenMetricsText0.0.1', 'PrometheusText1.0.0', 'PrometheusText0.0.4']);
  assert.match(settingsOf(native!).acceptHeader!, /^application\/vnd\.google\.protobuf;proto=io\.prometheus\.client\.MetricFamily;encoding=delimited;q=0\.6,/);
  assert.deepEqual(settingsOf(native!).histograms, { nativeHistograms: true, keepClassicHistograms: false, convertClassicToNhcb: false });
});

test('scrape formats: a job takes what global sets, and its own fields win', () => {
  const [inherit, own] = jobs(`
global:
  scrape_protocols: [PrometheusText0.0.4]
  scrape_native_histograms: true
  always_scrape_classic_histograms: true
  convert_classic_histograms_to_nhcb: true
scrape_configs:
  - job_name: inherit
  - job_name: own
    scrape_protocols: [PrometheusProto, OpenMetricsText1.0.0]
    scrape_native_histograms: false
    always_scrape_classic_histograms: false
    convert_classic_histograms_to_nhcb: false
`);
  // An explicit global list wins over the native-histogram default, as in Prometheus.
  assert.deepEqual(inherit!.scrapeProtocols, ['PrometheusText0.0.4']);
  assert.equal(inherit!.scrapeNativeHistograms, true);
  assert.equal(inherit!.alwaysScrapeClassicHistograms, true);
  assert.equal(inherit!.convertClassicHistogramsToNhcb, true);
  assert.deepEqual(own!.scrapeProtocols, ['PrometheusProto', 'OpenMetricsText1.0.0']);
  assert.equal(
    settingsOf(own!).acceptHeader,
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.4',
  );
  assert.deepEqual(settingsOf(own!).histograms, { nativeHistograms: false, keepClassicHistograms: false, convertClassicToNhcb: false });
});

test('scrape formats: bad values are refused with the field named', () => {
  const bad: Array<[string, RegExp]> = [
    ['scrape_protocols: []', /scrape_configs\[0\]\.scrape_protocols: scrape_protocols cannot be empty/],
    [
      'scrape_protocols: [prometheusproto]',
      /scrape_protocols\[0\]: unknown scrape protocol prometheusproto, supported: OpenMetricsText0\.0\.1, OpenMetricsText1\.0\.0, PrometheusProto/,
    ],
    ['scrape_protocols: [PrometheusProto, PrometheusProto]', /scrape_protocols\[1\]: duplicated protocol in scrape_protocols/],
    ['scrape_protocols: PrometheusProto', /scrape_protocols: expected a list/],
    ['scrape_native_histograms: yes please', /scrape_native_histograms: expected true or false/],
  ];
  for (const [field, re] of bad) {
    assert.throws(
      () => jobs(`scrape_configs:\n  - job_name: j\n    ${field}\n`),
      (err: unknown) => err instanceof ScrapeConfigError && re.test(err.message),
      field,
    );
  }
  assert.throws(() => parseGlobalConfig({ scrape_protocols: ['Nope'] }), /global\.scrape_protocols\[0\]: unknown scrape protocol Nope/);
});

test('scrape formats: fallback_scrape_protocol picks the parser of a response without a known Content-Type', () => {
  const [plain, proto] = jobs(`
scrape_configs:
  - job_name: plain
  - job_name: proto
    fallback_scrape_protocol: PrometheusProto
`);
  assert.equal(plain!.fallbackScrapeProtocol, undefined);
  assert.equal(settingsOf(plain!).fallbackFormat, undefined);
  assert.equal(settingsOf(proto!).fallbackFormat, 'prometheus-protobuf');
  assert.equal(formatForContentType('application/octet-stream', settingsOf(proto!).fallbackFormat).format, 'prometheus-protobuf');
  assert.equal(formatForContentType(undefined, 'openmetrics-text').format, 'openmetrics-text');
  assert.equal(formatForContentType('text/plain', 'prometheus-protobuf').format, 'prometheus-text');
  assert.throws(
    () => jobs('scrape_configs:\n  - job_name: j\n    fallback_scrape_protocol: Proto\n'),
    /scrape_configs\[0\]\.fallback_scrape_protocol: unknown scrape protocol Proto/,
  );
  assert.throws(
    () => parseGlobalConfig({ fallback_scrape_protocol: 'PrometheusProto' }),
    /global\.fallback_scrape_protocol: field fallback_scrape_protocol not found/,
  );
});
