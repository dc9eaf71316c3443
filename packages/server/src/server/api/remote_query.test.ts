// storage.type: remote against Debian's VictoriaMetrics on loopback: the same data written into
// VictoriaMetrics and into a local Vigil, then Grafana's Prometheus data source requests asked of a
// remote-mode Vigil and of the local one must answer alike; rules evaluate through the remote.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startServer, postWrite, waitFor, writeBody } from '../../testkit/helpers.js';
import { remoteStorage, startVictoriaMetrics, type VictoriaMetrics } from '../../testkit/victoria.js';
import { FIXTURE_QUERIES, fixtureSeries, SPAN_MS } from '../../testkit/remote_query_data.js';
import { labelsFrom } from '../../core/model/labels.js';
import { defaultConfig, type VigilConfig } from '../config/config.js';
import { VigilServer } from '../cmd/server.js';
import { nopLogger } from '../../core/util/log.js';

type Server = Awaited<ReturnType<typeof startServer>>;

/** A request as Grafana's Prometheus data source sends it: a form POST (its default) with its headers. */
async function grafana(base: string, p: string, params: Record<string, string | string[]>, method: 'GET' | 'POST' = 'POST') {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) form.append(k, x);
  const headers = { 'user-agent': 'Grafana/11.3.0', 'x-grafana-org-id': '1', accept: 'application/json, text/plain, */*' };
  const res =
    method === 'POST'
      ? await fetch(`${base}${p}`, { method, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: form })
      : await fetch(`${base}${p}?${form.toString()}`, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/**
 * Documented MetricsQL differences the data cannot avoid: it keeps the metric name after functions
 * that do not change a series' meaning (`max_over_time`), where PromQL drops it.
 */
const NAME_KEPT_BY_METRICSQL = new Set(['max_over_time(node_memory_bytes[10m])']);

/** Drops `__name__` from every series of `d`, after checking each had one. */
function withoutNames(d: QueryData): QueryData {
  const r = d.result as Array<{ metric: Record<string, string> }>;
  for (const s of r) assert.ok(s.metric['__name__'], 'MetricsQL kept the name');
  return { ...d, result: r.map((s) => ({ ...s, metric: Object.fromEntries(Object.entries(s.metric).filter(([k]) => k !== '__name__')) })) };
}

type ApiPair = [number, string];
interface QueryData {
  resultType: string;
  result: unknown;
}

/** Differences between two query answers: labels and times exactly, values to 1e-9 relative (MetricsQL computes rate without extrapolation). */
function diffQuery(a: QueryData, b: QueryData): string[] {
  if (a.resultType !== b.resultType) return [`resultType ${a.resultType} vs ${b.resultType}`];
  const rows = (d: QueryData): Array<{ key: string; points: ApiPair[] }> => {
    if (d.resultType === 'scalar') return [{ key: '', points: [d.result as ApiPair] }];
    const r = d.result as Array<{ metric: Record<string, string>; value?: ApiPair; values?: ApiPair[] }>;
    return r.map((s) => ({ key: JSON.stringify(labelsFrom(s.metric)), points: s.values ?? [s.value!] })).sort((x, y) => (x.key < y.key ? -1 : 1));
  };
  const ra = rows(a);
  const rb = rows(b);
  const out: string[] = [];
  if (ra.map((r) => r.key).join('\n') !== rb.map((r) => r.key).join('\n'))
    return [`series differ:\n${ra.map((r) => r.key).join('\n')}\nvs\n${rb.map((r) => r.key).join('\n')}`];
  ra.forEach((r, i) => {
    const pb = rb[i]!.points;
    if (r.points.length !== pb.length) out.push(`${r.key}: ${r.points.length} vs ${pb.length} points`);
    else
      r.points.forEach(([t, v], j) => {
        const [t2, v2] = pb[j]!;
        const x = Number(v);
        const y = Number(v2);
        if (t !== t2 || Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(x), Math.abs(y))) out.push(`${r.key} @${t}: ${t}=${v} vs ${t2}=${v2}`);
      });
  });
  return out;
}

describe('remote storage: VictoriaMetrics behind Vigil', { timeout: 180_000 }, () => {
  let vm: VictoriaMetrics;
  let local: Server;
  let remote: Server;
  // One hour of data ending ten minutes ago, on whole minutes.
  const t0 = Math.floor((Date.now() - SPAN_MS - 10 * 60_000) / 60_000) * 60_000;
  const tEval = t0 + 50 * 60_000;
  const rangeStart = t0 + 10 * 60_000;
  const rangeEnd = t0 + 55 * 60_000;
  let ruleDir: string;

  before(async () => {
    vm = await startVictoriaMetrics();
    // Neither scrapes itself: both must hold exactly the written data.
    local = await startServer((c) => void (c.selfScrape = false));
    ruleDir = fs.mkdtempSync(path.join(local.dir, 'rules-'));
    fs.writeFileSync(
      path.join(ruleDir, 'rules.yml'),
      `groups:
  - name: remote
    interval: 1s
    rules:
      - alert: OnlyInVictoria
        expr: sum(rate(only_in_vm_total[1m])) > 0
        labels: { severity: page }
        annotations:
          summary: 'rate {{ $value }}'
          detail: '{{ with query "only_in_vm_total" }}{{ . | first | value }}{{ end }}'
      - record: job:only_in_vm:rate1m
        expr: sum(rate(only_in_vm_total[1m]))
`,
    );
    remote = await startServer((c) => {
      remoteStorage(c, vm.url, '    timeout: 20s\n');
      c.selfScrape = false;
      c.baseDir = ruleDir;
      c.ruleFiles = ['rules.yml'];
    });
    const body = writeBody(fixtureSeries(t0));
    for (const url of [vm.url, local.url]) {
      const r = await postWrite(url, body);
      assert.equal(r.status, 204, `write to ${url}: ${r.text}`);
    }
    await vm.flush();
  });

  after(async () => {
    await remote?.stop();
    await local?.stop();
    await vm?.stop();
  });

  test('instant queries answer alike through VictoriaMetrics and locally', async () => {
    for (const query of FIXTURE_QUERIES) {
      const params = { query, time: String(tEval / 1000) };
      const [a, b] = [await grafana(remote.url, '/api/v1/query', params), await grafana(local.url, '/api/v1/query', params)];
      assert.equal(a.status, 200, `${query}: ${JSON.stringify(a.body)}`);
      assert.equal(b.status, 200, `${query}: ${JSON.stringify(b.body)}`);
      assert.deepEqual(Object.keys(a.body).sort(), Object.keys(b.body).sort(), query);
      let data = a.body['data'] as QueryData;
      assert.ok((data.result as unknown[]).length > 0, `${query}: empty answer`);
      if (NAME_KEPT_BY_METRICSQL.has(query)) data = withoutNames(data);
      assert.deepEqual(diffQuery(data, b.body['data'] as QueryData), [], query);
    }
  });

  test('range queries answer alike, series for series and point for point', async () => {
    for (const query of FIXTURE_QUERIES) {
      if (query.includes(' offset ') || query.startsWith('http_requests_total{')) continue;
      const params = { query, start: String(rangeStart / 1000), end: String(rangeEnd / 1000), step: '60' };
      const [a, b] = [await grafana(remote.url, '/api/v1/query_range', params), await grafana(local.url, '/api/v1/query_range', params)];
      assert.equal(a.status, 200, `${query}: ${JSON.stringify(a.body)}`);
      let data = a.body['data'] as QueryData;
      if (NAME_KEPT_BY_METRICSQL.has(query)) data = withoutNames(data);
      assert.equal(data.resultType, 'matrix');
      assert.equal((data.result as Array<{ values: unknown[] }>)[0]!.values.length, 46, query);
      assert.deepEqual(diffQuery(data, b.body['data'] as QueryData), [], query);
    }
  });

  test('series, label names and label values answer alike (Grafana’s metric browser requests)', async () => {
    const range = { start: String((t0 + 60_000) / 1000), end: String(rangeEnd / 1000) };
    const asks: Array<[string, Record<string, string | string[]>, 'GET' | 'POST']> = [
      ['/api/v1/series', { 'match[]': ['http_requests_total{code="500"}', 'node_memory_bytes'], ...range }, 'POST'],
      ['/api/v1/labels', range, 'POST'],
      ['/api/v1/labels', { 'match[]': '{job="node"}', ...range }, 'GET'],
      ['/api/v1/label/__name__/values', range, 'GET'],
      ['/api/v1/label/instance/values', { 'match[]': 'http_requests_total{code=~"2.."}', ...range }, 'GET'],
      ['/api/v1/label/le/values', { 'match[]': 'http_request_duration_seconds_bucket', ...range }, 'GET'],
    ];
    for (const [p, params, method] of asks) {
      const [a, b] = [await grafana(remote.url, p, params, method), await grafana(local.url, p, params, method)];
      assert.equal(a.status, 200, `${p}: ${JSON.stringify(a.body)}`);
      assert.ok((a.body['data'] as unknown[]).length > 0, p);
      assert.deepEqual(a.body, b.body, `${p} ${JSON.stringify(params)}`);
    }
    // Metadata and exemplars: neither side has any for this data, and the shapes agree.
    const md = [await grafana(remote.url, '/api/v1/metadata', {}, 'GET'), await grafana(local.url, '/api/v1/metadata', {}, 'GET')];
    assert.deepEqual(md[0]!.body, md[1]!.body);
    const exParams = { query: 'http_requests_total', start: String(rangeStart / 1000), end: String(rangeEnd / 1000) };
    const ex = [await grafana(remote.url, '/api/v1/query_exemplars', exParams), await grafana(local.url, '/api/v1/query_exemplars', exParams)];
    assert.equal(ex[0]!.status, 200);
    assert.deepEqual(ex[0]!.body, ex[1]!.body);
  });

  test('a large answer (1,100 series, written out in slices) is the same through the remote', async () => {
    const series = [];
    for (let i = 0; i < 1100; i++) {
      const samples: Array<[number, number]> = [];
      for (let t = rangeStart; t <= rangeStart + 10 * 60_000; t += 60_000) samples.push([t, i + (t - rangeStart) / 60_000]);
      series.push({ labels: labelsFrom({ __name__: 'big_gauge', shard: String(i) }), samples });
    }
    const body = writeBody(series);
    for (const url of [vm.url, local.url]) assert.equal((await postWrite(url, body)).status, 204);
    await vm.flush();
    const params = { query: 'big_gauge * 2', start: String(rangeStart / 1000), end: String((rangeStart + 10 * 60_000) / 1000), step: '60' };
    const [a, b] = [await grafana(remote.url, '/api/v1/query_range', params), await grafana(local.url, '/api/v1/query_range', params)];
    assert.equal(a.status, 200);
    assert.equal(((a.body['data'] as QueryData).result as unknown[]).length, 1100);
    assert.deepEqual(a.body, b.body);
  });

  test('calls to the remote are counted by endpoint and status on /metrics', async () => {
    const m = await (await fetch(`${remote.url}/metrics`)).text();
    const count = (endpoint: string, code: string): number =>
      Number(new RegExp(`vigil_remote_storage_query_duration_seconds_count\\{endpoint="${endpoint}",code="${code}"\\} (\\d+)`).exec(m)?.[1] ?? 0);
    assert.ok(count('/api/v1/query', '200') >= 17, m);
    assert.ok(count('/api/v1/query_range', '200') >= 10);
    assert.ok(count('/api/v1/label/:name/values', '200') >= 3);
  });

  test('an alerting rule fires from data only VictoriaMetrics has; its recording rule lands in the local TSDB', async () => {
    const now = Date.now();
    const samples: Array<[number, number]> = [];
    for (let i = 12; i >= 0; i--) samples.push([now - i * 15_000, 500 - i * 10]);
    const r = await postWrite(vm.url, writeBody([{ labels: labelsFrom({ __name__: 'only_in_vm_total', job: 'edge' }), samples }]));
    assert.equal(r.status, 204);
    await vm.flush();
    const alert = await waitFor(
      'OnlyInVictoria to fire',
      async () => {
        const res = await fetch(`${remote.url}/api/v1/alerts`);
        const body = (await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string; annotations: Record<string, string> }> } };
        return body.data.alerts.find((a) => a.labels['alertname'] === 'OnlyInVictoria' && a.state === 'firing');
      },
      30_000,
      200,
    );
    // rate of a counter growing 10 every 15 s.
    assert.match(alert.annotations['summary']!, /^rate 0\.666/);
    // The template query function cannot wait for the network: it says so instead of hanging.
    assert.match(alert.annotations['detail']!, /cannot answer synchronously/);
    assert.match(alert.annotations['detail']!, new RegExp(vm.url.replace(/[.]/g, '\\.')));
    // The local Vigil never saw the series.
    const mine = await grafana(local.url, '/api/v1/query', { query: 'only_in_vm_total' });
    assert.deepEqual((mine.body['data'] as QueryData).result, []);
    // The recording rule's result is appended to the remote-mode Vigil's own TSDB.
    const recorded = await waitFor('the recording rule in the local TSDB', () => {
      const v = remote.server.engine.instantQuery(remote.server.db, 'job:only_in_vm:rate1m', Date.now()).result;
      return Promise.resolve(v.type === 'vector' && v.samples.length === 1 ? v.samples[0]!.v : undefined);
    });
    assert.ok(Math.abs(recorded - 10 / 15) < 1e-9, String(recorded));
  });

  test('a pending alert’s for state survives a restart in remote mode (ALERTS_FOR_STATE is read back locally)', async () => {
    const dir = fs.mkdtempSync(path.join(local.dir, 'restart-'));
    fs.writeFileSync(
      path.join(dir, 'rules.yml'),
      'groups:\n  - name: pending\n    interval: 1s\n    rules:\n      - alert: SlowBurn\n        expr: sum(rate(slow_burn_total[5m])) > 0\n        for: 1h\n',
    );
    const now = Date.now();
    const samples: Array<[number, number]> = [];
    for (let i = 16; i >= 0; i--) samples.push([now - i * 15_000, 100 - i]);
    assert.equal((await postWrite(vm.url, writeBody([{ labels: labelsFrom({ __name__: 'slow_burn_total' }), samples }]))).status, 204);
    await vm.flush();
    const config = (): VigilConfig => {
      const c = defaultConfig();
      c.storage.path = path.join(dir, 'data');
      c.listen = '127.0.0.1:0';
      c.selfScrape = false;
      c.baseDir = dir;
      c.ruleFiles = ['rules.yml'];
      remoteStorage(c, vm.url);
      return c;
    };
    // The alert's activeAt once the rule has restored its state (after the second evaluation at start).
    const pending = (s: VigilServer): Promise<number> =>
      waitFor('SlowBurn to be pending', () => {
        const rule = s.rules.alertingRules().find((r) => r.name === 'SlowBurn');
        return Promise.resolve(rule?.restored ? rule.activeAlerts()[0]?.activeAt : undefined);
      });
    const first = new VigilServer(config(), { logger: nopLogger });
    await first.start();
    const activeAt = await pending(first);
    // A few evaluations write ALERTS_FOR_STATE into the local TSDB.
    await new Promise((r) => setTimeout(r, 3000));
    await first.stop();
    const second = new VigilServer(config(), { logger: nopLogger });
    await second.start();
    try {
      const restored = await pending(second);
      const seenAt = Date.now();
      // Restored: active for as long as it was pending before the stop (about 3 s), counted back
      // from the first evaluation after the restart (Prometheus' RestoreForState); a fresh alert
      // would be active from that evaluation, a poll (200 ms) before it was seen.
      assert.ok(restored <= seenAt - 2000, `activeAt ${restored}, seen at ${seenAt} (first run: ${activeAt})`);
      assert.ok(restored >= activeAt);
    } finally {
      await second.stop();
    }
  });

  test('a query Vigil cannot parse is the same 400 in both modes; the remote’s 422 stays 422 with its message', async () => {
    const bad = [await grafana(remote.url, '/api/v1/query', { query: 'sum(' }), await grafana(local.url, '/api/v1/query', { query: 'sum(' })];
    assert.equal(bad[0]!.status, 400);
    assert.deepEqual(bad[0]!.body, bad[1]!.body);
    // PromQL's limit_ratio is not MetricsQL: VictoriaMetrics refuses it with 422.
    const r = await grafana(remote.url, '/api/v1/query', { query: 'limit_ratio(0.5, http_requests_total)', time: String(tEval / 1000) });
    assert.equal(r.status, 422);
    assert.equal(r.body['errorType'], 'execution');
    assert.match(String(r.body['error']), /unknown func "limit_ratio"/);
    // Too many points per series: the same 400 as locally (VictoriaMetrics' own bound is higher).
    const points = { query: 'up', start: '0', end: '20000', step: '1' };
    const tooMany = [await grafana(remote.url, '/api/v1/query_range', points), await grafana(local.url, '/api/v1/query_range', points)];
    assert.equal(tooMany[0]!.status, 400);
    assert.deepEqual(tooMany[0]!.body, tooMany[1]!.body);
    // A range query with a matrix expression is refused before anything is sent, as locally.
    const m = await grafana(remote.url, '/api/v1/query_range', { query: 'http_requests_total[5m]', start: '1', end: '2', step: '1' });
    assert.equal(m.status, 400);
    assert.match(String(m.body['error']), /invalid expression type "range vector"/);
  });
});
