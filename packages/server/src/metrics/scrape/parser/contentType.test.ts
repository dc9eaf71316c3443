import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptHeader, DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS, formatForContentType, parseMediaType, SCRAPE_ACCEPT_HEADER } from './contentType.js';

test('the Accept header is the one Prometheus 3 sends for its default protocols', () => {
  assert.equal(
    SCRAPE_ACCEPT_HEADER,
    'application/openmetrics-text;version=1.0.0;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
  );
});

test('with native histograms the protobuf format comes first in the Accept header', () => {
  assert.equal(
    acceptHeader(DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS),
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,' +
      'application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
  );
  assert.equal(acceptHeader(['PrometheusText0.0.4']), 'text/plain;version=0.0.4;q=0.6,*/*;q=0.5');
});

const cases: Array<[string | undefined, string, boolean]> = [
  ['application/openmetrics-text; version=1.0.0; charset=utf-8', 'openmetrics-text', false],
  ['application/openmetrics-text;version=0.0.1', 'openmetrics-text', false],
  ['Application/OpenMetrics-Text', 'openmetrics-text', false],
  ['text/plain; version=0.0.4; charset=utf-8', 'prometheus-text', false],
  ['text/plain', 'prometheus-text', false],
  ['text/plain;version=1.0.0;escaping=allow-utf-8', 'prometheus-text', false],
  ['', 'prometheus-text', true],
  [undefined, 'prometheus-text', true],
  ['application/json', 'prometheus-text', true],
  ['application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited', 'prometheus-protobuf', false],
  [';;;', 'prometheus-text', true],
];

for (const [ct, format, fallback] of cases) {
  test(`Content-Type ${JSON.stringify(ct)} → ${format}${fallback ? ' (fallback)' : ''}`, () => {
    const got = formatForContentType(ct);
    assert.equal(got.format, format);
    assert.equal(got.fallback, fallback);
  });
}

test('media type parameters are parsed, quotes removed', () => {
  const { mediaType, params } = parseMediaType('Text/Plain; Version="0.0.4" ; charset=utf-8; junk');
  assert.equal(mediaType, 'text/plain');
  assert.equal(params.get('version'), '0.0.4');
  assert.equal(params.get('charset'), 'utf-8');
  assert.equal(params.size, 2);
});
