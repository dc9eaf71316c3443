// Grafana-style dashboard links (`/d/<uid>/<slug>?from=…&to=…&var-…`), as alerts' dashboard_url and
// notification texts carry them, lead to the provisioned dashboard; the UI learns web.external_url.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../../testkit/helpers.js';
import { dashboardLocation } from './ui.js';

test('/d/<uid>[/<slug>] redirects to the dashboard in the UI, translating Grafana range parameters', async () => {
  const srv = await startServer((c) => (c.web.externalUrl = 'https://vigil.example.com/'));
  try {
    const cases: Array<[string, string]> = [
      ['/d/shop', '/ui/dashboards/shop'],
      ['/d/shop/demo-shop?orgId=1&from=now-6h&to=now&var-pool=orders-db', '/ui/dashboards/shop?var-pool=orders-db&range=6h'],
      ['/d/shop/demo-shop?from=1700000000000&to=1700003600000&refresh=10s', '/ui/dashboards/shop?refresh=10s&from=1700000000000&to=1700003600000'],
      // A range Vigil cannot express is left out rather than misread: the dashboard's own default applies.
      ['/d/shop?from=now-1d%2Fd&to=now-1d%2Fd', '/ui/dashboards/shop'],
      ['/d/a%20b', '/ui/dashboards/a%20b'],
    ];
    for (const [from, to] of cases) {
      const res = await fetch(srv.url + from, { redirect: 'manual' });
      assert.equal(res.status, 302, from);
      assert.equal(res.headers.get('location'), to, from);
    }
    const settings = (await (await fetch(`${srv.url}/api/v1/ui/settings`)).json()) as { status: string; data: { externalUrl: string | null } };
    assert.deepEqual(settings, { status: 'success', data: { externalUrl: 'https://vigil.example.com/' } });
  } finally {
    await srv.stop();
  }
});

test('without web.external_url the UI settings say so', async () => {
  const srv = await startServer();
  try {
    const settings = (await (await fetch(`${srv.url}/api/v1/ui/settings`)).json()) as { data: { externalUrl: string | null } };
    assert.equal(settings.data.externalUrl, null);
    assert.equal(
      dashboardLocation('x', new URLSearchParams('from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z')),
      '/ui/dashboards/x?from=2026-01-01T00%3A00%3A00Z&to=2026-01-01T01%3A00%3A00Z',
    );
  } finally {
    await srv.stop();
  }
});
