// Exemplars from a real sender: Debian's Prometheus scrapes an OpenMetrics target whose histogram
// buckets carry trace ids and remote_writes them with `send_exemplars: true`; Vigil stores them
// and /api/v1/query_exemplars shows them, as Prometheus' own endpoint does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, getJson, peerBinary, startServer, tempDir, waitFor } from '../../testkit/helpers.js';
import { serve } from '../../testkit/scrape.js';

interface ApiSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

test('Prometheus remote_write with send_exemplars: the scraped OpenMetrics exemplars reach /api/v1/query_exemplars', { timeout: 120_000 }, async (t) => {
  const bin = peerBinary('prometheus', 'prometheus');
  const vigil = await startServer((c) => (c.selfScrape = false));
  t.after(() => vigil.stop());
  // Each scrape hands out a new trace id (timestamped, so every one is a new exemplar) on two buckets.
  let n = 0;
  const target = await serve((_req, res) => {
    n++;
    const ts = (Date.now() / 1000).toFixed(3);
    const id = (k: number): string => `${n.toString(16).padStart(16, '0')}${k.toString(16).padStart(16, '0')}`;
    res.writeHead(200, { 'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8' });
    res.end(
      [
        '# TYPE checkout_duration_seconds histogram',
        `checkout_duration_seconds_bucket{le="0.25"} ${n} # {trace_id="${id(1)}"} 0.12 ${ts}`,
        `checkout_duration_seconds_bucket{le="2.5"} ${2 * n} # {trace_id="${id(2)}",span_id="00f067aa0ba902b7"} 1.7 ${ts}`,
        `checkout_duration_seconds_bucket{le="+Inf"} ${2 * n}`,
        `checkout_duration_seconds_sum ${n * 1.9}`,
        `checkout_duration_seconds_count ${2 * n}`,
        '# EOF',
        '',
      ].join('\n'),
    );
  });
  t.after(() => target.close());

  const { dir, cleanup } = tempDir('vigil-prom-ex-');
  t.after(cleanup);
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 1s
scrape_configs:
  - job_name: shop
    static_configs:
      - targets: ['${target.host}']
remote_write:
  - url: ${vigil.url}/api/v1/write
    send_exemplars: true
    queue_config:
      batch_send_deadline: 1s
`,
  );
  // Prometheus 2.x keeps (and so forwards) exemplars only with its exemplar storage turned on.
  const prom = spawn(
    bin,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prom.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  t.after(() => prom.kill('SIGKILL'));

  const query = 'histogram_quantile(0.95, sum by (le) (rate(checkout_duration_seconds_bucket{job="shop"}[1m])))';
  const ours = await waitFor(
    `exemplars from Prometheus in Vigil (Prometheus log: ${log.slice(-300)})`,
    async () => {
      const r = await getJson(`${vigil.url}/api/v1/query_exemplars?query=${encodeURIComponent(query)}`);
      const d = r.body.data as ApiSeries[];
      return d.length === 2 && d.every((s) => s.exemplars.length >= 3) ? d : undefined;
    },
    90_000,
    1000,
  );
  for (const s of ours) {
    assert.equal(s.seriesLabels['__name__'], 'checkout_duration_seconds_bucket');
    assert.equal(s.seriesLabels['job'], 'shop');
    assert.equal(s.seriesLabels['instance'], target.host);
    for (const e of s.exemplars) assert.match(e.labels['trace_id']!, /^[0-9a-f]{32}$/);
  }
  const slow = ours.find((s) => s.seriesLabels['le'] === '2.5')!;
  assert.equal(slow.exemplars[0]!.value, '1.7');
  assert.equal(slow.exemplars[0]!.labels['span_id'], '00f067aa0ba902b7');

  // Prometheus' own endpoint, asked the same, holds the same exemplars (Vigil may lag by a send).
  const theirs = await getJson(`http://127.0.0.1:${port}/api/v1/query_exemplars?query=${encodeURIComponent(query)}`);
  const key = (d: ApiSeries[]): Set<string> =>
    new Set(d.flatMap((s) => s.exemplars.map((e) => `${s.seriesLabels['le']}|${e.labels['trace_id']}|${e.value}|${e.timestamp}`)));
  const mine = key(ours);
  const prometheus = key(theirs.body.data as ApiSeries[]);
  assert.ok(mine.size >= 6);
  for (const k of mine) assert.ok(prometheus.has(k), `Vigil has ${k}, Prometheus does not`);
});
