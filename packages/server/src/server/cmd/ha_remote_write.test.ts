/**
 * HA pairs against the real thing: two `vigil start` replicas scrape the same target, each with
 * `external_labels: { cluster, __replica__ }`, and remote_write to one Debian `victoria-metrics`
 * started with `-dedup.minScrapeInterval` equal to the scrape interval. VictoriaMetrics
 * de-duplicates samples of one series, so the replicas drop `__replica__` on the way out (a Mimir
 * HA tracker instead wants it kept, and drops it itself); queries then see one series with one
 * sample per interval, though both replicas sent theirs.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exited, freePort, spawnVigil, startServer, tempDir, waitFor, type VigilProcess } from '../../testkit/helpers.js';
import { remoteStorage, startVictoriaMetrics, type VictoriaMetrics } from '../../testkit/victoria.js';

/**
 * The replica configuration, as the README's "HA pairs" shape shows it; `mimirLike` adds a second
 * queue in Mimir's shape (the labels kept for its HA tracker).
 */
function haReplicaConfig(replica: string, target: string, vmUrl: string, mimirLike?: string): string {
  return [
    'self_scrape: false',
    'global:',
    '  scrape_interval: 1s',
    `  external_labels: { cluster: eu1, __replica__: ${replica} }`,
    'scrape_configs:',
    '  - job_name: app',
    `    static_configs: [{ targets: ['${target}'] }]`,
    'remote_write:',
    `  - url: ${vmUrl}/api/v1/write`,
    '    write_relabel_configs:',
    '      - { action: labeldrop, regex: __replica__ }',
    '    queue_config: { batch_send_deadline: 1s }',
    ...(mimirLike ? [`  - url: ${mimirLike}/api/v1/write`, '    queue_config: { batch_send_deadline: 1s }'] : []),
    '',
  ].join('\n');
}

interface Vector {
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

async function query(base: string, q: string, timeSec: number): Promise<Vector['data']['result']> {
  const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: q, time: String(timeSec) }).toString()}`);
  const body = (await res.json()) as Vector;
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.data.result;
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('an HA pair of Vigils writing to one VictoriaMetrics with -dedup.minScrapeInterval', { timeout: 120_000 }, () => {
  const tmp = tempDir('vigil-ha-rw-');
  let vm: VictoriaMetrics;
  let target: http.Server;
  const replicas: VigilProcess[] = [];
  let count = 0;
  /** Stands where a Mimir with the HA tracker would: it must receive both replicas' labels. */
  let haTrackerSide: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    haTrackerSide = await startServer((c) => void (c.selfScrape = false));
    vm = await startVictoriaMetrics(['-dedup.minScrapeInterval=1s']);
    target = http.createServer((_req, res) => {
      count++;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(`# TYPE demo_requests_total counter\ndemo_requests_total ${count}\n`);
    });
    const port = await freePort();
    await new Promise<void>((r) => target.listen(port, '127.0.0.1', r));
    for (const replica of ['a', 'b']) {
      const cfg = path.join(tmp.dir, `vigil-${replica}.yml`);
      writeFileSync(cfg, haReplicaConfig(replica, `127.0.0.1:${port}`, vm.url, haTrackerSide.url));
      replicas.push(await spawnVigil(path.join(tmp.dir, `data-${replica}`), await freePort(), ['--config', cfg]));
    }
  });

  after(async () => {
    for (const v of replicas) {
      v.proc.kill('SIGKILL');
      await exited(v.proc);
    }
    target?.close();
    await haTrackerSide?.stop();
    await vm?.stop();
    tmp.cleanup();
  });

  it('both replicas send every sample, and queries see one series with one sample per scrape interval', async () => {
    // Twelve seconds of scrapes by both replicas, all sent.
    const until = Date.now() + 12_000;
    await waitFor('12 s of scrapes, sent by both replicas', async () => (Date.now() > until ? true : undefined), 20_000, 500);
    const at = Math.floor(Date.now() / 1000) - 2;
    await waitFor(
      'both replicas to have sent up to the evaluation time',
      async () => {
        for (const v of replicas) if (!((await metric(v.url, 'prometheus_remote_storage_queue_highest_sent_timestamp_seconds')) >= at)) return undefined;
        return true;
      },
      20_000,
      250,
    );
    await vm.flush();
    const perReplica = await Promise.all(replicas.map(async (v) => Number((await query(v.url, 'count_over_time(demo_requests_total[10s])', at))[0]!.value[1])));
    // About ten each; fewer when the machine is loaded and a scrape slips.
    for (const n of perReplica) assert.ok(n >= 6 && n <= 11, `each replica scraped about ten times in 10 s: ${perReplica.join(', ')}`);

    const stored = await query(vm.url, 'demo_requests_total', at);
    assert.equal(stored.length, 1, `one series: ${JSON.stringify(stored)}`);
    assert.deepEqual(stored[0]!.metric, { __name__: 'demo_requests_total', cluster: 'eu1', instance: replicasTarget(), job: 'app' });
    const inVm = Number((await query(vm.url, 'count_over_time(demo_requests_total[10s])', at))[0]!.value[1]);
    assert.ok(inVm <= Math.max(...perReplica) + 1, `one sample per second kept, not both replicas' (${inVm} vs ${perReplica.join(' + ')})`);
    assert.ok(inVm >= 6, `${inVm} samples in 10 s`);

    // Without the labeldrop (Mimir's shape) both replicas' series arrive with cluster and
    // __replica__, which is what an HA tracker elects by.
    const withReplica = await query(haTrackerSide.url, 'count by (cluster, __replica__) (demo_requests_total)', at);
    assert.deepEqual(
      withReplica.map((r) => r.metric).sort((x, y) => (x['__replica__']! < y['__replica__']! ? -1 : 1)),
      [
        { cluster: 'eu1', __replica__: 'a' },
        { cluster: 'eu1', __replica__: 'b' },
      ],
    );

    // Vigil as the query layer over the remote sees the same single copy.
    const front = await startServer((c) => {
      remoteStorage(c, vm.url);
      c.selfScrape = false;
    });
    try {
      const viaVigil = await query(front.url, 'count_over_time(demo_requests_total[10s])', at);
      assert.equal(viaVigil.length, 1);
      assert.equal(Number(viaVigil[0]!.value[1]), inVm);
    } finally {
      await front.stop();
    }
  });

  function replicasTarget(): string {
    const a = target.address() as { port: number };
    return `127.0.0.1:${a.port}`;
  }
});
