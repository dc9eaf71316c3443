// The sender's other behaviours against real receivers: a 4xx drops (and counts) the batch
// without blocking the queue (Prometheus refusing out-of-bounds samples), metadata reaches a
// second Vigil, and shards follow throughput (VictoriaMetrics behind a slow proxy).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { loadConfig, parseConfig } from '../../../server/config/config.js';
import { VigilServer } from '../../../server/cmd/server.js';
import { freePort, getJson, postWrite, startServer, tempDir, waitFor, writeBody } from '../../../testkit/helpers.js';
import { prometheusReceiver, stormProxy, victoriaMetrics, vmExport, type Receiver } from '../../../testkit/remote_receivers.js';
import { snappyEncode } from '../../../core/util/snappy.js';
import { labelsFrom } from '../../../core/model/labels.js';
import { nopLogger } from '../../../core/util/log.js';
import { DB } from '../../tsdb/db.js';
import { RecordType, Wal, WalRecordWriter, walSegments } from '../../tsdb/wal.js';
import { WriteRequestEncoder } from '../proto.js';
import { RemoteWriteSender } from './index.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function receiver(kind: 'vm' | 'prometheus'): Promise<Receiver> {
  const { dir, cleanup } = tempDir(`vigil-rw-${kind}-`);
  const r = kind === 'vm' ? await victoriaMetrics(dir) : await prometheusReceiver(dir);
  await r.start();
  cleanups.push(async () => {
    await r.stop();
    cleanup();
  });
  return r;
}

function remoteWrite(yaml: string): ReturnType<typeof parseConfig>['remoteWriteTo'] {
  return parseConfig(`remote_write:\n${yaml}`, 'test.yml').remoteWriteTo;
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

const series = (name: string, from: number, n: number): Array<{ labels: ReturnType<typeof labelsFrom>; samples: Array<[number, number]> }> => [
  { labels: labelsFrom({ __name__: name }), samples: Array.from({ length: n }, (_, i): [number, number] => [from + i * 1000, i]) },
];

test('a batch Prometheus refuses with 400 is dropped and counted; later batches still go', { timeout: 90_000 }, async () => {
  const prom = await receiver('prometheus');
  const vigil = await startServer((c) => {
    c.selfScrape = false;
    c.remoteWriteTo = remoteWrite(`  - url: ${prom.writeUrl}\n    queue_config: { batch_send_deadline: 200ms }\n`);
  });
  cleanups.push(() => vigil.stop());
  const now = Math.floor(Date.now() / 1000) * 1000;
  const count = async (name: string): Promise<number> => {
    const r = await getJson(`${prom.url}/api/v1/query?query=${encodeURIComponent(`count_over_time(${name}[5h])`)}&time=${(now + 60_000) / 1000}`);
    const res = (r.body.data as { result: Array<{ value: [number, string] }> }).result;
    return Number(res[0]?.value[1] ?? 0);
  };
  assert.equal((await postWrite(vigil.url, writeBody(series('rw_now', now - 20_000, 10)))).status, 204);
  await waitFor('the first batch in Prometheus', async () => ((await count('rw_now')) === 10 ? true : undefined));
  // Three hours before Prometheus' newest sample: out of its head's bounds, refused with a 400.
  assert.equal((await postWrite(vigil.url, writeBody(series('rw_old', now - 3 * 3_600_000, 7)))).status, 204);
  await waitFor('the refused batch counted', async () =>
    (await metricValue(vigil.url, 'prometheus_remote_storage_samples_failed_total')) === 7 ? true : undefined,
  );
  assert.equal(await metricValue(vigil.url, 'prometheus_remote_storage_samples_retried_total'), 0, 'a 400 is not retried');
  assert.equal((await postWrite(vigil.url, writeBody(series('rw_after', now - 10_000, 5)))).status, 204);
  await waitFor('the batch after it in Prometheus', async () => ((await count('rw_after')) === 5 ? true : undefined));
  assert.equal(await count('rw_old'), 0);
});

test('metric metadata is sent every send_interval and reaches the receiver', { timeout: 60_000 }, async () => {
  const target = await startServer((c) => (c.selfScrape = false));
  cleanups.push(() => target.stop());
  const vigil = await startServer((c) => {
    c.selfScrape = false;
    c.remoteWriteTo = remoteWrite(`  - url: ${target.url}/api/v1/write\n    metadata_config: { send_interval: 500ms }\n`);
  });
  cleanups.push(() => vigil.stop());
  const enc = new WriteRequestEncoder();
  enc.addSeries(labelsFrom({ __name__: 'rw_meta_total' }), [Date.now() - 1000], [1]);
  enc.addMetadata('rw_meta_total', 'counter', 'Requests the metadata test made.', 'requests');
  assert.equal((await postWrite(vigil.url, snappyEncode(enc.finish()))).status, 204);
  const md = await waitFor('metadata at the receiver', async () => {
    const r = await getJson(`${target.url}/api/v1/metadata?metric=rw_meta_total`);
    const d = r.body.data as Record<string, Array<{ type: string; help: string; unit: string }>>;
    return d['rw_meta_total'];
  });
  assert.deepEqual(md, [{ type: 'counter', help: 'Requests the metadata test made.', unit: 'requests' }]);
  assert.ok((await metricValue(vigil.url, 'prometheus_remote_storage_metadata_total')) >= 1);
});

test('send_exemplars: exemplars reach the receiver with their series labels as sent', { timeout: 60_000 }, async () => {
  const target = await startServer((c) => (c.selfScrape = false));
  cleanups.push(() => target.stop());
  const vigil = await startServer((c) => {
    c.selfScrape = false;
    c.global = { ...c.global, externalLabels: labelsFrom({ cluster: 'eu-1' }) };
    c.remoteWriteTo = remoteWrite(`  - url: ${target.url}/api/v1/write\n    send_exemplars: true\n    queue_config: { batch_send_deadline: 200ms }\n`);
  });
  cleanups.push(() => vigil.stop());
  const now = Math.floor(Date.now() / 1000) * 1000;
  const enc = new WriteRequestEncoder();
  const ex = [{ labels: labelsFrom({ trace_id: 'abc123' }), value: 0.25, ts: now - 1000 }];
  enc.addSeries(labelsFrom({ __name__: 'rw_latency_bucket', le: '0.5' }), [now - 1000], [3], ex);
  assert.equal((await postWrite(vigil.url, snappyEncode(enc.finish()))).status, 204);
  const got = await waitFor('the exemplar at the receiver', async () => {
    const r = await getJson(
      `${target.url}/api/v1/query_exemplars?query=${encodeURIComponent('rw_latency_bucket')}&start=${(now - 60_000) / 1000}&end=${(now + 60_000) / 1000}`,
    );
    const d = r.body.data as Array<{
      seriesLabels: Record<string, string>;
      exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
    }>;
    return d.length > 0 ? d : undefined;
  });
  assert.deepEqual(got[0]!.seriesLabels, { __name__: 'rw_latency_bucket', le: '0.5', cluster: 'eu-1' });
  assert.deepEqual(got[0]!.exemplars, [{ labels: { trace_id: 'abc123' }, value: '0.25', timestamp: (now - 1000) / 1000 }]);
  assert.equal(await metricValue(vigil.url, 'prometheus_remote_storage_exemplars_total'), 1);
});

test('shards grow while one cannot keep up with a slow receiver, each series stays in order, and shrink when the load goes', { timeout: 120_000 }, async () => {
  const vm = await receiver('vm');
  const proxy = await stormProxy(vm.url);
  proxy.delayMs = 100;
  cleanups.push(() => proxy.close());
  const { dir, cleanup } = tempDir('vigil-rw-shards-');
  cleanups.push(cleanup);
  const db = new DB({ dir: path.join(dir, 'tsdb'), maintenanceIntervalMs: 0 });
  await db.start();
  cleanups.push(() => db.stop());
  const sender = new RemoteWriteSender({
    walDir: db.walDir,
    stateDir: path.join(dir, 'remote_write'),
    walSegment: () => db.walSegment,
    highestTimestamp: () => db.head.maxt,
    logger: nopLogger,
    shardUpdateMs: 1000,
    pollMs: 20,
  });
  await sender.apply(
    remoteWrite(
      `  - url: ${proxy.url}/api/v1/write\n    headers: { X-Scope-OrgID: team-a }\n    queue_config: { max_samples_per_send: 100, max_shards: 6, batch_send_deadline: 100ms }\n`,
    ),
    [],
  );
  cleanups.push(() => sender.stop());
  const q = sender.active[0]!;
  const start = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  const SERIES = 20;
  // About 8,000 samples/s; one shard sends 100 samples per 100 ms round trip: 1,000/s.
  let k = 0;
  const maxShards = { seen: 1 };
  const until = Date.now() + 8000;
  while (Date.now() < until) {
    const app = db.appender();
    for (let i = 0; i < 40; i++, k++) for (let s = 0; s < SERIES; s++) app.append(0, labelsFrom({ __name__: 'rw_shards', s: String(s) }), start + k, k);
    app.commit();
    maxShards.seen = Math.max(maxShards.seen, q.shards.length);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(maxShards.seen, 6, `resharded up to max_shards (desired ${q.desiredShards})`);
  assert.ok(proxy.maxInFlight > 1, `requests in parallel: ${proxy.maxInFlight}`);
  assert.equal(proxy.lastHeaders['x-scope-orgid'], 'team-a', 'the configured headers are sent');
  assert.equal(proxy.lastHeaders['content-encoding'], 'snappy');
  assert.equal(proxy.lastHeaders['x-prometheus-remote-write-version'], '0.1.0');
  const got = await waitFor(
    'every sample in VictoriaMetrics',
    async () => {
      const s = await vmExport(vm, 'rw_shards');
      return s.length === SERIES && s.every((x) => x.timestamps.length === k) ? s : undefined;
    },
    60_000,
    500,
  );
  for (const s of got)
    assert.deepEqual(
      s.values,
      Array.from({ length: k }, (_, i) => i),
      `series ${s.metric['s']} complete and in order`,
    );
  await waitFor('fewer shards once the load is gone', async () => (q.shards.length < 6 ? true : undefined), 30_000, 250);
  assert.equal(q.stats.samplesFailed, 0);
});

test('external labels are added, write_relabel_configs drop and rewrite, and samples past sample_age_limit are dropped', { timeout: 60_000 }, async () => {
  const vm = await receiver('vm');
  const vigil = await startServer((c) => {
    c.selfScrape = false;
    c.global = { ...c.global, externalLabels: labelsFrom({ cluster: 'eu-1', team: 'from-config' }) };
    c.remoteWriteTo = remoteWrite(
      [
        `  - url: ${vm.writeUrl}`,
        '    queue_config: { batch_send_deadline: 200ms, sample_age_limit: 30m }',
        '    write_relabel_configs:',
        "      - { source_labels: [__name__], regex: 'rw_secret.*', action: drop }",
        "      - { source_labels: [job], target_label: service, regex: '(.+)', replacement: 'svc-$1' }",
        '',
      ].join('\n'),
    );
  });
  cleanups.push(() => vigil.stop());
  const now = Math.floor(Date.now() / 1000) * 1000;
  const body = writeBody([
    {
      labels: labelsFrom({ __name__: 'rw_shape', job: 'api', team: 'own' }),
      samples: [
        [now - 2 * 3_600_000, 1],
        [now - 5000, 2],
      ],
    },
    { labels: labelsFrom({ __name__: 'rw_secret_token', job: 'api' }), samples: [[now - 5000, 3]] },
  ]);
  assert.equal((await postWrite(vigil.url, body)).status, 204);
  const got = await waitFor('rw_shape in VictoriaMetrics', async () => {
    const s = await vmExport(vm, '{__name__=~"rw_.*"}');
    return s.length > 0 ? s : undefined;
  });
  assert.equal(got.length, 1, 'the series write_relabel_configs drops is not sent');
  assert.deepEqual(
    got[0]!.metric,
    { __name__: 'rw_shape', job: 'api', team: 'own', cluster: 'eu-1', service: 'svc-api' },
    "external labels where the series has none; the series' own win",
  );
  assert.deepEqual(got[0]!.timestamps, [now - 5000], 'the sample older than sample_age_limit is dropped');
  await waitFor('the drops counted', async () => ((await metricValue(vigil.url, 'prometheus_remote_storage_samples_dropped_total')) === 2 ? true : undefined));
});

test('a queue behind holds its WAL segments out of checkpoints up to wal_retention_size, then lets them go', { timeout: 30_000 }, async () => {
  const { dir, cleanup } = tempDir('vigil-rw-hold-');
  cleanups.push(cleanup);
  const walDir = path.join(dir, 'wal');
  const wal = new Wal(walDir, { warn: () => {}, segmentBytes: 4096 });
  wal.replay({ series: () => {}, sample: () => {} });
  cleanups.push(() => wal.close());
  const rw = new WalRecordWriter();
  rw.begin(RecordType.series);
  rw.series(1, labelsFrom({ __name__: 'rw_hold' }));
  rw.end();
  wal.write(rw.w.view());
  // A receiver that is not there: nothing is ever settled, so the queue stays at its start.
  const port = await freePort();
  const sender = new RemoteWriteSender({
    walDir,
    stateDir: path.join(dir, 'rw'),
    walSegment: () => wal.currentSegment,
    highestTimestamp: () => 0,
    logger: nopLogger,
  });
  const start = wal.currentSegment;
  await sender.apply(remoteWrite(`  - url: http://127.0.0.1:${port}/api/v1/write\n    wal_retention_size: 64KB\n`), []);
  cleanups.push(() => sender.stop());
  wal.retainFrom = () => sender.retainFrom();
  const writeSamples = (from: number): void => {
    const w = new WalRecordWriter();
    w.begin(RecordType.samples);
    for (let i = 0; i < 100; i++) w.sample(1, from + i, i);
    w.end();
    wal.write(w.w.view());
  };
  let t = 0;
  for (; t < 3000; t += 100) writeSamples(t); // about 30 KB: within the bound
  assert.equal(sender.retainFrom(), start, 'the unsent segments are held');
  await wal.truncate(0, () => true);
  assert.ok(walSegments(walDir).includes(start), 'a checkpoint left the held segment alone');
  for (; t < 12_000; t += 100) writeSamples(t); // past 64 KB
  assert.equal(sender.retainFrom(), undefined, 'past wal_retention_size nothing is held');
  assert.equal(sender.holdsReleased, 1);
  await wal.truncate(0, () => true);
  assert.ok(!walSegments(walDir).includes(start), 'the checkpoint took the segments the queue let go');
});

test('a staleness marker reaches Prometheus as one (not as an ordinary NaN)', { timeout: 60_000 }, async () => {
  const prom = await receiver('prometheus');
  const vigil = await startServer((c) => {
    c.selfScrape = false;
    c.remoteWriteTo = remoteWrite(`  - url: ${prom.writeUrl}\n    queue_config: { batch_send_deadline: 200ms }\n`);
  });
  cleanups.push(() => vigil.stop());
  const now = Math.floor(Date.now() / 1000) * 1000;
  const vs = new Float64Array(4);
  vs.set([1, 2, NaN]);
  vs[3] = new Float64Array(new BigUint64Array([0x7ff0000000000002n]).buffer)[0]!; // Prometheus' StaleNaN
  const enc = new WriteRequestEncoder();
  enc.addSeries(labelsFrom({ __name__: 'rw_stale' }), [now - 4000, now - 3000, now - 2000, now - 1000], vs);
  assert.equal((await postWrite(vigil.url, snappyEncode(enc.finish()))).status, 204);
  // Range functions skip staleness markers but count an ordinary NaN: 3 samples, not 4.
  const r = await waitFor('rw_stale in Prometheus', async () => {
    const q = await getJson(`${prom.url}/api/v1/query?query=${encodeURIComponent('count_over_time(rw_stale[1m])')}&time=${now / 1000}`);
    const res = (q.body.data as { result: Array<{ value: [number, string] }> }).result;
    return res[0]?.value[1];
  });
  assert.equal(r, '3');
});

test('a configuration reload starts, changes and stops remote_write queues', { timeout: 60_000 }, async () => {
  const vm = await receiver('vm');
  const { dir, cleanup } = tempDir('vigil-rw-reload-');
  cleanups.push(cleanup);
  const file = path.join(dir, 'vigil.yml');
  const base = `listen: 127.0.0.1:0\nself_scrape: false\nstorage: { path: ${path.join(dir, 'data')} }\n`;
  fs.writeFileSync(file, base);
  const server = new VigilServer(loadConfig(file), { configFile: file, logger: nopLogger });
  await server.start();
  cleanups.push(() => server.stop());
  const url = `http://${server.address()}`;
  const now = Math.floor(Date.now() / 1000) * 1000;
  assert.equal(server.remoteWriteSender.active.length, 0);
  fs.writeFileSync(file, `${base}remote_write:\n  - url: ${vm.writeUrl}\n    name: vm\n    queue_config: { batch_send_deadline: 200ms }\n`);
  await server.reload();
  assert.deepEqual(
    server.remoteWriteSender.active.map((q) => q.config.name),
    ['vm'],
  );
  assert.equal((await postWrite(url, writeBody(series('rw_reload', now - 10_000, 5)))).status, 204);
  await waitFor('samples written after the reload in VictoriaMetrics', async () =>
    (await vmExport(vm, 'rw_reload'))[0]?.timestamps.length === 5 ? true : undefined,
  );
  // A changed entry restarts its queue from the saved position: nothing is sent twice or lost.
  fs.writeFileSync(file, `${base}remote_write:\n  - url: ${vm.writeUrl}\n    name: vm\n    queue_config: { batch_send_deadline: 300ms }\n`);
  await server.reload();
  assert.equal(server.remoteWriteSender.active[0]!.config.queue.batchSendDeadlineMs, 300);
  assert.equal((await postWrite(url, writeBody(series('rw_reload', now - 5000, 5)))).status, 204);
  await waitFor('the samples after the second reload', async () => ((await vmExport(vm, 'rw_reload'))[0]?.timestamps.length === 10 ? true : undefined));
  fs.writeFileSync(file, base);
  await server.reload();
  assert.equal(server.remoteWriteSender.active.length, 0);
  assert.ok((await metricValue(url, 'prometheus_remote_storage_samples_total')) >= 10, 'counters of a stopped queue are kept');
});
