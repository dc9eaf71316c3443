/**
 * Query isolation (issue 19, item 2): does a heavy query hold the thread that acknowledges writes?
 * Loads `--series` series into a spawned Vigil, then runs `--query` (by default
 * `count(count_over_time({job="bench"}[1d]))`) `--runs` times in a row while a small
 * remote_write request is sent every 20 ms and `/-/ready` is polled every 20 ms. Reports the p50,
 * p99 and max ack latency and the max `/-/ready` latency during the queries, and each query's
 * status and duration. A measurement, not a timed test.
 *
 *   node packages/server/dist-test/testkit/bench/isolation.js [--series 300000] [--samples 4] [--runs 3] [--vigil path/to/bin/vigil.js]
 *     [--query EXPR] [--range 3600:60]   (a range query over the last 3600 s at a 60 s step instead of an instant query)
 *     [--node-flags '--trace-gc']        (node/V8 flags for the server process; its stdout is shown then)
 *     [--path '/api/v1/series?match[]={job="bench"}']   (GET this path instead of a query: the metadata
 *                                        endpoints; the report counts the `"__name__":` keys of the answer)
 *     [--flush]                          (POST /api/v1/admin/tsdb/flush instead of a query: the head cut into a
 *                                        block; from the second run on, the series are loaded again first, with
 *                                        samples from now on (not timed), so the flush also merges the blocks)
 *
 * `--vigil` runs another build (the one before a change, say) against the same load.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { labelsFrom } from '../../core/model/labels.js';
import { exited, freePort, tempDir, VIGIL_BIN, waitFor, writeBody } from '../helpers.js';
import { positiveInt } from './cli.js';
import { REPO_ROOT, writeJson } from './report.js';
import { memStat } from './procstat.js';

const { values } = parseArgs({
  options: {
    series: { type: 'string' },
    samples: { type: 'string' },
    runs: { type: 'string' },
    query: { type: 'string' },
    vigil: { type: 'string' },
    'per-request': { type: 'string' },
    range: { type: 'string' },
    'node-flags': { type: 'string' },
    path: { type: 'string' },
    flush: { type: 'boolean' },
  },
});
const total = positiveInt('--series', values.series, 300_000);
const samples = positiveInt('--samples', values.samples, 4);
const runs = positiveInt('--runs', values.runs, 3);
const perRequest = positiveInt('--per-request', values['per-request'], 2000);
const expr = values.query ?? 'count(count_over_time({job="bench"}[1d]))';
const bin = values.vigil ? path.resolve(values.vigil) : VIGIL_BIN;
const SAMPLE_GAP_MS = 60_000;
const TICK_MS = 20;

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const ms = (x: number): string => `${x.toFixed(1)} ms`;

function loadBody(first: number, n: number, end: number, gapMs = SAMPLE_GAP_MS): Buffer {
  const list = [];
  for (let i = first; i < first + n; i++) {
    const pts: Array<[number, number]> = [];
    for (let k = samples - 1; k >= 0; k--) pts.push([end - k * gapMs, i + k]);
    // Spread over metric names so no per-metric limit is what stops the load.
    list.push({ labels: labelsFrom({ __name__: `bench_metric_${i % 50}`, instance: `host-${i}`, job: 'bench' }), samples: pts });
  }
  return writeBody(list);
}

async function post(url: string, body: Buffer): Promise<number> {
  const res = await fetch(`${url}/api/v1/write`, {
    method: 'POST',
    headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf', 'x-prometheus-remote-write-version': '0.1.0' },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Result text kept whole (and parsed) only up to this size. */
const KEEP_TEXT = 1 << 20;

/**
 * Reads a query response chunk by chunk, counting bytes and series (`"metric":` keys). Parsing a
 * 127 MB result in one go would hold this process' event loop for seconds, and the probes it
 * times meanwhile would report that stall as the server's.
 */
async function readCounting(res: Response, key = '"metric":'): Promise<{ bytes: number; series: number; head: string; text: string | undefined }> {
  const decoder = new TextDecoder();
  let bytes = 0;
  let series = 0;
  let head = '';
  let kept: string | undefined = '';
  let carry = '';
  for await (const chunk of res.body ?? []) {
    bytes += chunk.length;
    const s = carry + decoder.decode(chunk, { stream: true });
    if (head.length < 160) head += s.slice(0, 160 - head.length);
    if (kept !== undefined) kept = kept.length + s.length - carry.length <= KEEP_TEXT ? kept + s.slice(carry.length) : undefined;
    for (let i = s.indexOf(key); i >= 0; i = s.indexOf(key, i + 1)) series++;
    // The key may straddle two chunks: the last few characters are searched again with the next.
    // One character fewer than the key cannot hold a whole key: nothing is counted twice.
    carry = s.slice(-(key.length - 1));
    // Hand the loop to the probes between chunks, as a client streaming the result would.
    await new Promise((r) => setImmediate(r));
  }
  return { bytes, series, head, text: kept };
}

const { dir, cleanup } = tempDir('vigil-bench-isolation-');
const port = await freePort();
const config = path.join(dir, 'vigil.yml');
// Room for the load: the default series limits (1M global, 200k per metric) would refuse part of it.
writeFileSync(
  config,
  `limits:\n  max_global_series: ${total + 1000}\n  max_global_series_per_metric: 0\nself_scrape: false\n${values.flush ? 'web:\n  enable_admin_api: true\n' : ''}`,
);
// Extra node/V8 flags for the server process (`--trace-gc`, say), space-separated.
const nodeFlags = (values['node-flags'] ?? '').split(/\s+/).filter((f) => f !== '');
const proc = spawn(process.execPath, [...nodeFlags, bin, 'start', '--config', config, '--data', path.join(dir, 'data'), '--listen', `127.0.0.1:${port}`], {
  stdio: ['ignore', nodeFlags.length > 0 ? 'inherit' : 'ignore', 'pipe'],
});
let stderr = '';
proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
const url = `http://127.0.0.1:${port}`;
try {
  await waitFor('vigil to become ready', async () => {
    if (proc.exitCode !== null) throw new Error(`vigil exited: ${stderr}`);
    return (await fetch(`${url}/-/ready`)).status === 200 ? true : undefined;
  });
  const end = Date.now() - 60_000;
  const loadStart = performance.now();
  const load = async (loadEnd: number, gapMs?: number): Promise<void> => {
    let next = 0;
    const sender = async (): Promise<void> => {
      while (next < total) {
        const first = next;
        const n = Math.min(perRequest, total - first);
        next += n;
        const status = await post(url, loadBody(first, n, loadEnd, gapMs));
        if (status !== 204) throw new Error(`load request answered ${status}`);
      }
    };
    await Promise.all([sender(), sender()]);
  };
  await load(end);
  console.log(
    `loaded ${total} series x ${samples} samples in ${((performance.now() - loadStart) / 1000).toFixed(1)} s; RSS ${memStat(proc.pid!)?.rssBytes ?? '?'} B`,
  );

  // The probes: a one-sample write and a readiness check every 20 ms, each timed alone.
  const acks: number[] = [];
  const ready: number[] = [];
  let ackErrors = 0;
  let probing = true;
  let tick = 0;
  const probeLoop = async (probe: () => Promise<void>): Promise<void> => {
    while (probing) {
      const t0 = performance.now();
      await probe();
      const left = TICK_MS - (performance.now() - t0);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
  };
  /** False while a reload between flushes runs: what the probes see then is not counted. */
  let counting = true;
  const ackProbe = async (): Promise<void> => {
    const t = Date.now() + tick++;
    const body = writeBody([{ labels: labelsFrom({ __name__: 'probe', job: 'probe' }), samples: [[t, tick]] }]);
    const t0 = performance.now();
    const status = await post(url, body);
    if (!counting) return;
    acks.push(performance.now() - t0);
    if (status !== 204) ackErrors++;
  };
  const readyProbe = async (): Promise<void> => {
    const t0 = performance.now();
    const res = await fetch(`${url}/-/ready`);
    await res.arrayBuffer();
    if (counting) ready.push(performance.now() - t0);
  };
  // Idle baseline first (1 s), then the same probes while the queries run.
  const idle = Promise.all([probeLoop(ackProbe), probeLoop(readyProbe)]);
  await new Promise((r) => setTimeout(r, 1000));
  probing = false;
  await idle;
  const idleAcks = acks.splice(0);
  ready.splice(0);
  probing = true;
  const loops = Promise.all([probeLoop(ackProbe), probeLoop(readyProbe)]);
  const queries: string[] = [];
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, memStat(proc.pid!)?.rssBytes ?? 0)), 200);
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const [span, step] = (values.range ?? '').split(':').map(Number);
    if (values.flush === true) {
      if (i > 0) {
        // After every probe sample the last flush took (the head refuses samples before its cut),
        // one second apart, and not ahead of the probes that follow.
        counting = false;
        await load(Date.now() + samples * 1000, 1000);
        counting = true;
      }
      const f0 = performance.now();
      const res = await fetch(`${url}/api/v1/admin/tsdb/flush`, { method: 'POST' });
      const body = (await res.json()) as { blocks?: unknown[] };
      queries.push(`${res.status} in ${((performance.now() - f0) / 1000).toFixed(2)} s (${body.blocks?.length ?? '?'} blocks after)`);
      continue;
    }
    if (values.path !== undefined) {
      // A metadata call: the path as given (encoded as a browser would), its answer counted, not parsed.
      const res = await fetch(new URL(values.path, url));
      const body = await readCounting(res, '"__name__":');
      const what = res.status === 200 ? `${body.series} series, ${(body.bytes / 1e6).toFixed(1)} MB` : body.head;
      queries.push(`${res.status} in ${((performance.now() - t0) / 1000).toFixed(2)} s (${what})`);
      continue;
    }
    const res = await fetch(
      values.range
        ? `${url}/api/v1/query_range?query=${encodeURIComponent(expr)}&start=${end / 1000 - span!}&end=${end / 1000}&step=${step}`
        : `${url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${end / 1000}`,
    );
    const body = await readCounting(res);
    const data =
      res.status === 200 && body.text !== undefined ? (JSON.parse(body.text) as { data: { result: Array<{ value?: [number, string] }> } }).data : undefined;
    const value = res.status !== 200 ? body.head : data ? (data.result[0]?.value?.[1] ?? '-') : `${body.series} series, ${(body.bytes / 1e6).toFixed(0)} MB`;
    queries.push(`${res.status} in ${((performance.now() - t0) / 1000).toFixed(2)} s (${value})`);
  }
  probing = false;
  await loops;
  clearInterval(rssTimer);
  const what = values.flush === true ? 'POST /api/v1/admin/tsdb/flush' : values.path !== undefined ? `GET ${values.path}` : `query ${expr}`;
  console.log(`${what} x ${runs}: ${queries.join('; ')}`);
  console.log(`idle: ack p50 ${ms(quantile(idleAcks, 0.5))}, p99 ${ms(quantile(idleAcks, 0.99))} (${idleAcks.length} requests)`);
  console.log(
    `during ${values.flush === true ? 'flushes' : 'queries'}: ack p50 ${ms(quantile(acks, 0.5))}, p99 ${ms(quantile(acks, 0.99))}, max ${ms(Math.max(...acks))} (${acks.length} requests, ${ackErrors} not 204); ` +
      `/-/ready max ${ms(Math.max(...ready))}, p99 ${ms(quantile(ready, 0.99))} (${ready.length} requests); peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB`,
  );
  writeJson(REPO_ROOT, 'isolation', new Date(), {
    series: total,
    work: what,
    idle: { ackP50Ms: quantile(idleAcks, 0.5), ackP99Ms: quantile(idleAcks, 0.99) },
    duringQueries: {
      ackP50Ms: quantile(acks, 0.5),
      ackP99Ms: quantile(acks, 0.99),
      ackMaxMs: Math.max(...acks),
      ackErrors,
      readyMaxMs: Math.max(...ready),
      readyP99Ms: quantile(ready, 0.99),
      peakRssBytes: peakRss,
    },
  });
} catch (err) {
  // The server's own last words, when it is what failed.
  if (proc.exitCode !== null || proc.signalCode !== null) console.error(`vigil exited (${proc.exitCode ?? proc.signalCode}): ${stderr.slice(-3000)}`);
  throw err;
} finally {
  proc.kill('SIGTERM');
  await exited(proc);
  cleanup();
}
