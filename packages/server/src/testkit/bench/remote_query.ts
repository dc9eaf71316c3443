/**
 * Query latency through the remote path vs local (issue 17, the capacity table's last row): the same
 * data in a `vigil start` with its own TSDB and in Debian's VictoriaMetrics behind a second `vigil
 * start` with `storage.type: remote`; each query asked of both in turn, N times after warm-up, and
 * the median wall time of the HTTP call reported. Run: `node
 * packages/server/dist-test/testkit/bench/remote_query.js [scale] [N] [vm|remote_read]` (scale × 18
 * series, one hour of 15 s samples each; default 50 and 21). With `remote_read`, the remote is
 * Debian's Prometheus, read by the second Vigil through `remote_read:` (its own engine evaluating
 * over the fetched series) instead of delegated to.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, postWrite, spawnVigil, tempDir, writeBody, type VigilProcess } from '../helpers.js';
import { startVictoriaMetrics } from '../victoria.js';
import { prometheusReceiver } from '../remote_receivers.js';
import { REPO_ROOT, writeJson } from './report.js';
import { FIXTURE_QUERIES, fixtureSeries, SPAN_MS } from '../remote_query_data.js';

const startedAt = new Date();
const scale = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 21);
const via = process.argv[4] ?? 'vm';
if (via !== 'vm' && via !== 'remote_read') throw new Error(`unknown remote ${via}: expected vm or remote_read`);

/** The remote store, and the configuration of the Vigil that reads it. */
interface Remote {
  readonly url: string;
  readonly title: string;
  readonly vigilYaml: string;
  /** Writes the fixture (in time order: Prometheus' head takes samples up to an hour behind its newest). */
  write(series: ReturnType<typeof fixtureSeries>, t0: number): Promise<void>;
  stop(): Promise<void>;
}

async function startRemote(dir: string): Promise<Remote> {
  if (via === 'vm') {
    const vm = await startVictoriaMetrics();
    return {
      url: vm.url,
      title: 'remote (VictoriaMetrics)',
      vigilYaml: `self_scrape: false\nstorage:\n  type: remote\n  remote:\n    url: ${vm.url}\n`,
      write: async (series) => {
        for (let i = 0; i < series.length; i += 200) await mustWrite(vm.url, writeBody(series.slice(i, i + 200)));
        await vm.flush();
      },
      stop: () => vm.stop(),
    };
  }
  const prom = await prometheusReceiver(dir);
  await prom.start();
  return {
    url: prom.url,
    title: 'remote_read (Prometheus)',
    vigilYaml: `self_scrape: false\nremote_read:\n  - url: ${prom.url}/api/v1/read\n    name: prom\n`,
    write: async (series, t0) => {
      for (let from = t0; from <= t0 + SPAN_MS; from += 10 * 60_000) {
        const part = series.map((s) => ({ labels: s.labels, samples: s.samples.filter(([t]) => t >= from && t < from + 10 * 60_000) }));
        for (let i = 0; i < part.length; i += 200) await mustWrite(prom.url, writeBody(part.slice(i, i + 200)));
      }
    },
    stop: () => prom.stop(),
  };
}

async function mustWrite(url: string, body: Buffer): Promise<void> {
  const r = await postWrite(url, body);
  if (r.status !== 204) throw new Error(`write to ${url}: ${r.status} ${r.text}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(url: string): Promise<number> {
  const t = process.hrtime.bigint();
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body.slice(0, 300)}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function main(): Promise<void> {
  const { dir, cleanup } = tempDir('vigil-rq-bench-');
  const store = await startRemote(dir);
  const procs: VigilProcess[] = [];
  try {
    const remoteCfg = path.join(dir, 'remote.yml');
    fs.writeFileSync(remoteCfg, store.vigilYaml);
    const localCfg = path.join(dir, 'local.yml');
    fs.writeFileSync(localCfg, 'self_scrape: false\n');
    const local = await spawnVigil(path.join(dir, 'local'), await freePort(), ['--config', localCfg]);
    procs.push(local);
    const remote = await spawnVigil(path.join(dir, 'remote'), await freePort(), ['--config', remoteCfg]);
    procs.push(remote);
    const t0 = Math.floor((Date.now() - SPAN_MS - 10 * 60_000) / 60_000) * 60_000;
    const series = fixtureSeries(t0, scale);
    for (let i = 0; i < series.length; i += 200) await mustWrite(local.url, writeBody(series.slice(i, i + 200)));
    await store.write(series, t0);
    const samples = series.reduce((n, s) => n + s.samples.length, 0);
    const tEval = (t0 + 50 * 60_000) / 1000;
    const range = `start=${(t0 + 10 * 60_000) / 1000}&end=${(t0 + 55 * 60_000) / 1000}&step=60`;
    const rows: Array<{ query: string; kind: string; localMs: number; remoteMs: number }> = [];
    for (const query of FIXTURE_QUERIES) {
      for (const kind of ['instant', 'range'] as const) {
        if (kind === 'range' && (query.includes(' offset ') || query.startsWith('http_requests_total{'))) continue;
        const p =
          kind === 'instant'
            ? `/api/v1/query?query=${encodeURIComponent(query)}&time=${tEval}`
            : `/api/v1/query_range?query=${encodeURIComponent(query)}&${range}`;
        const l: number[] = [];
        const r: number[] = [];
        for (let i = 0; i < runs + 2; i++) {
          // Alternating, so both see the same background load; the first two are warm-up.
          const a = await timed(local.url + p);
          const b = await timed(remote.url + p);
          if (i >= 2) {
            l.push(a);
            r.push(b);
          }
        }
        rows.push({ query, kind, localMs: median(l), remoteMs: median(r) });
      }
    }
    console.log(`${series.length} series, ${samples} samples; median of ${runs} HTTP calls each (ms)\n`);
    console.log(`| query | kind | local | ${store.title} |\n|---|---|---:|---:|`);
    for (const row of rows) console.log(`| \`${row.query}\` | ${row.kind} | ${row.localMs.toFixed(2)} | ${row.remoteMs.toFixed(2)} |`);
    const all = (k: 'localMs' | 'remoteMs'): number => median(rows.map((x) => x[k]));
    console.log(`\nmedian over queries: local ${all('localMs').toFixed(2)} ms, remote ${all('remoteMs').toFixed(2)} ms`);
    writeJson(REPO_ROOT, via === 'vm' ? 'remote_query' : 'remote_read', startedAt, {
      series: series.length,
      samples,
      medianLocalMs: all('localMs'),
      medianRemoteMs: all('remoteMs'),
      remoteToLocalRatio: all('remoteMs') / all('localMs'),
    });
  } finally {
    for (const p of procs) p.proc.kill('SIGKILL');
    await store.stop();
    cleanup();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
