/* global URLSearchParams */
// Unit tests of dashboard links in alerts (lib/links.ts, bundled for Node by build.js into dist/test/lib.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as lib from './lib.js';

const START = Date.parse('2026-03-01T10:00:00Z');
const NOW = Date.parse('2026-03-01T10:20:00Z');
const ctx = { location: 'http://127.0.0.1:9466/ui/alerts', startsAt: START, now: NOW };
const alertRange = 'from=2026-03-01T09%3A45%3A00.000Z&to=2026-03-01T10%3A20%3A00.000Z';

test("a dashboard_url naming one of Vigil's dashboards opens it in the UI over the alert's range", () => {
  assert.equal(lib.dashboardTarget('/ui/dashboards/shop', ctx), `/ui/dashboards/shop?${alertRange}`);
  assert.equal(lib.dashboardTarget('http://127.0.0.1:9466/ui/dashboards/shop', ctx), `/ui/dashboards/shop?${alertRange}`);
  // Grafana's form, with its slug, variables and an orgId that means nothing here.
  assert.equal(lib.dashboardTarget('/d/shop/demo-shop?orgId=1&var-pool=orders-db', ctx), `/ui/dashboards/shop?var-pool=orders-db&${alertRange}`);
  // A resolved alert's range ends a margin after it ended.
  assert.equal(
    lib.dashboardTarget('/d/shop', { ...ctx, endsAt: Date.parse('2026-03-01T10:02:00Z') }),
    '/ui/dashboards/shop?from=2026-03-01T09%3A45%3A00.000Z&to=2026-03-01T10%3A17%3A00.000Z',
  );
});

test('under web.external_url (with a path prefix) a link is recognized even when the page is reached another way', () => {
  const ext = { ...ctx, externalUrl: 'https://ops.example.com/vigil' };
  assert.equal(lib.dashboardTarget('https://ops.example.com/vigil/d/vigil', ext), `/ui/dashboards/vigil?${alertRange}`);
  assert.equal(lib.dashboardTarget('https://ops.example.com/vigil/ui/dashboards/shop/', ext), `/ui/dashboards/shop?${alertRange}`);
  assert.equal(lib.dashboardTarget('https://ops.example.com/other/d/vigil', ext), undefined);
});

test("a range chosen by the link is kept: Grafana's now-6h, or absolute times", () => {
  assert.equal(lib.dashboardTarget('/d/shop?from=now-6h&to=now', ctx), '/ui/dashboards/shop?range=6h');
  assert.equal(lib.dashboardTarget('/d/shop?from=1700000000000&to=1700003600000', ctx), '/ui/dashboards/shop?from=1700000000000&to=1700003600000');
});

test('other links are not dashboards of this Vigil: another host, another path, bad input', () => {
  for (const url of [
    'https://grafana.example.com/d/abc123/shop',
    '/ui/explore?expr=up',
    '/d/',
    '/ui/dashboards',
    '/ui/dashboards/shop/extra',
    'javascript:alert(1)',
    '',
    undefined,
    '/d/%E0%A4%A',
  ])
    assert.equal(lib.dashboardTarget(url, ctx), undefined, String(url));
});

test("a graph_url naming Vigil's Explore opens that graph in the UI over the alert's range, keeping its own parameters", () => {
  const expr = 'histogram_quantile(0.99, sum by (le) (rate(http_server_request_duration_seconds_bucket{route="/checkout"}[1m])))';
  const q = new URLSearchParams({ expr, legend: 'p99' }).toString();
  assert.equal(lib.exploreTarget(`http://127.0.0.1:9466/ui/explore?${q}`, ctx), `/ui/explore?${q}&${alertRange}`);
  assert.equal(lib.exploreTarget(`/ui/explore/?${q}`, ctx), `/ui/explore?${q}&${alertRange}`);
  // Its own range wins; under web.external_url it is recognized too.
  assert.equal(lib.exploreTarget(`/ui/explore?${q}&range=6h`, ctx), `/ui/explore?${q}&range=6h`);
  assert.equal(
    lib.exploreTarget(`https://ops.example.com/vigil/ui/explore?${q}`, { ...ctx, externalUrl: 'https://ops.example.com/vigil' }),
    `/ui/explore?${q}&${alertRange}`,
  );
  // Not Explore, another host, no expression, not a URL: not an in-app graph.
  assert.equal(lib.exploreTarget(`/ui/dashboards/shop?${q}`, ctx), undefined);
  assert.equal(lib.exploreTarget(`http://grafana.example.com/ui/explore?${q}`, ctx), undefined);
  assert.equal(lib.exploreTarget('/ui/explore?expr=%20', ctx), undefined);
  assert.equal(lib.exploreTarget('http://[bad', ctx), undefined);
  assert.equal(lib.exploreTarget(undefined, ctx), undefined);
});
