// Logs through `vigil start`'s wiring: the SDK's shipper and a raw Loki push land in the log store,
// LogQL finds them, correlation follows one request id, and the self metrics count them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVigil, captureLogs } from '@vigil/sdk';
import { startServer, waitFor } from '../../testkit/helpers.js';

test('SDK shipper and Loki push reach the log store; LogQL and correlation find the lines', { timeout: 60_000 }, async () => {
  const srv = await startServer((c) => {
    c.selfScrape = false;
  });
  try {
    const now = BigInt(Date.now()) * 1_000_000n;
    const push = await fetch(`${srv.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        streams: [
          { stream: { service: 'gateway', level: 'error' }, values: [[String(now), JSON.stringify({ msg: 'upstream timeout', request_id: 'req-42' })]] },
        ],
      }),
    });
    assert.equal(push.status, 204);
    const vigil = createVigil({ service: 'shop', logDestination: captureLogs(), loki: { url: `${srv.url}/loki/api/v1/push`, flushIntervalMs: 50 } });
    vigil.logger.error({ request_id: 'req-42', pool: 'orders-db' }, 'database pool exhausted');
    await vigil.shutdown();
    const q = encodeURIComponent('{service=~"shop|gateway"} |= "req-42"');
    const res = await waitFor(
      'both lines',
      async () => {
        const r = (await (await fetch(`${srv.url}/loki/api/v1/query_range?query=${q}&limit=10`)).json()) as {
          data: { result: Array<{ stream: Record<string, string>; values: string[][] }> };
        };
        return r.data.result.length === 2 ? r.data.result : undefined;
      },
      10_000,
    );
    assert.deepEqual(res.map((s) => s.stream['service']).sort(), ['gateway', 'shop']);
    const corr = (await (await fetch(`${srv.url}/loki/api/v1/correlate?id=req-42&field=request_id`)).json()) as { data: unknown };
    assert.equal(JSON.stringify(corr).split('req-42').length - 1 >= 2, true, JSON.stringify(corr).slice(0, 300));
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /^vigil_logs_lines_received_total 2$/m);
  } finally {
    await srv.stop();
  }
});
