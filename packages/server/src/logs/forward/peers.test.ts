// The log forwarder against a real Loki-compatible receiver on loopback: a second `vigil start`
// (no Loki package is installable here), which takes Loki's push API and answers LogQL. Lines are
// pushed into the forwarding Vigil through its own Loki push endpoint, so each is in its log WAL
// exactly as ingest puts it there.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exited, freePort, spawnVigil, tempDir, waitFor, type VigilProcess } from '../../testkit/helpers.js';
import { stormProxy } from '../../testkit/remote_receivers.js';
import { cpuSeconds } from '../../testkit/bench/procstat.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const STREAMS = 4;
/** Nanoseconds of line 0; line k is stamped BASE + k ms, so time order is push order. */
const BASE = BigInt(Date.now() - 600_000) * 1_000_000n;

/** A Vigil on a fresh (or given) data directory, with `yaml` as its configuration; stopped after the file. */
async function vigil(yaml: string, at?: { dir: string; port: number }, args: string[] = []): Promise<VigilProcess & { dir: string; port: number }> {
  let dir = at?.dir;
  if (!dir) {
    const t = tempDir('vigil-logfwd-');
    cleanups.push(t.cleanup);
    dir = t.dir;
  }
  const port = at?.port ?? (await freePort());
  const cfg = path.join(dir, 'vigil.yml');
  fs.writeFileSync(cfg, `self_scrape: false\n${yaml}`);
  const v = await spawnVigil(path.join(dir, 'data'), port, ['--config', cfg, ...args]);
  cleanups.push(async () => {
    if (v.proc.exitCode === null && v.proc.signalCode === null) {
      v.proc.kill('SIGTERM');
      await exited(v.proc);
    }
  });
  return { ...v, dir, port };
}

function forwardTo(url: string, extra = ''): string {
  return `logs:\n  forward_to:\n    - url: ${url}/loki/api/v1/push\n      name: peer\n      batchwait: 200ms\n      backoff_config: { min_period: 100ms, max_period: 1s }\n${extra}`;
}

/** Pushes lines k in [from, to) of every stream: `stream s line k`, every tenth with a `trace_id`. */
async function push(url: string, from: number, to: number): Promise<void> {
  const streams = Array.from({ length: STREAMS }, (_, s) => ({
    stream: { job: 'fwd', stream: String(s) },
    // Every tenth line carries structured metadata, which must travel with it.
    values: Array.from({ length: to - from }, (_, i) => {
      const k = from + i;
      const v = [String(BASE + BigInt(k) * 1_000_000n), `stream ${s} line ${k}`];
      return k % 10 === 0 ? [...v, { trace_id: `t${k}` }] : v;
    }),
  }));
  const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ streams }) });
  assert.equal(res.status, 204, await res.text());
}

/** Every line a Vigil holds of each stream, oldest first (pages of 5000 by time). */
async function linesOf(url: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let s = 0; s < STREAMS; s++) {
    const lines: string[] = [];
    let start = BASE;
    for (;;) {
      const q = new URLSearchParams({
        query: `{job="fwd", stream="${s}"}`,
        start: String(start),
        end: String(BASE + 3_600_000_000_000n),
        limit: '5000',
        direction: 'forward',
      });
      const body = (await (await fetch(`${url}/loki/api/v1/query_range?${q}`)).json()) as {
        data: { result: Array<{ values: Array<[string, string]> }> };
      };
      const values = body.data.result.flatMap((r) => r.values).sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : BigInt(a[0]) > BigInt(b[0]) ? 1 : 0));
      lines.push(...values.map((v) => v[1]));
      if (values.length < 5000) break;
      // The next page starts after the last time read; lines at that very time were all in this page (one line per ms).
      start = BigInt(values.at(-1)![0]) + 1n;
    }
    out.set(String(s), lines);
  }
  return out;
}

/** Waits until the receiver holds lines 0..n-1 of every stream (duplicates allowed); returns them. */
async function waitForAll(url: string, n: number, timeoutMs = 60_000): Promise<Map<string, string[]>> {
  return waitFor(
    `${n} lines of each stream at the receiver`,
    async () => {
      const got = await linesOf(url);
      return [...got.values()].every((l) => new Set(l).size >= n) ? got : undefined;
    },
    timeoutMs,
    300,
  );
}

/** Asserts every stream holds lines 0..n-1 in order, each once (`duplicatesAllowed`: repeats of a line right after it are counted, not failed). */
function checkLines(got: Map<string, string[]>, n: number, duplicatesAllowed = false): number {
  let duplicates = 0;
  for (const [s, lines] of got) {
    const want = Array.from({ length: n }, (_, k) => `stream ${s} line ${k}`);
    const unique = lines.filter((l, i) => i === 0 || l !== lines[i - 1]);
    duplicates += lines.length - unique.length;
    assert.deepEqual(unique, want, `stream ${s}: every line, in order`);
  }
  if (!duplicatesAllowed) assert.equal(duplicates, 0, 'no line twice');
  return duplicates;
}

async function metric(url: string, name: string, labelPart = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(labelPart)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/**
 * The receiver is stopped for `outageMs` while lines keep coming, then started again on the same
 * port and data: every line arrives, once and in order, none is dropped.
 */
async function outage(outageMs: number): Promise<void> {
  const receiver = await vigil('');
  const fwd = await vigil(forwardTo(receiver.url));
  let k = 0;
  const write = async (n: number): Promise<void> => {
    await push(fwd.url, k, k + n);
    k += n;
  };
  await write(200);
  checkLines(await waitForAll(receiver.url, 200), 200);
  receiver.proc.kill('SIGTERM');
  await exited(receiver.proc);
  // Lines keep coming through the outage, ten per stream every 200 ms.
  const until = Date.now() + outageMs;
  while (Date.now() < until) {
    await write(10);
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok((await metric(fwd.url, 'promtail_batch_retries_total')) > 0, 'pushes failed and were retried during the outage');
  assert.ok((await metric(fwd.url, 'vigil_log_forward_pending_bytes')) > 0, 'the WAL holds what is not sent');
  const back = await vigil('', receiver);
  await write(20);
  checkLines(await waitForAll(back.url, k, 120_000), k);
  assert.equal(await metric(fwd.url, 'promtail_dropped_entries_total'), 0);
  assert.equal(await metric(fwd.url, 'promtail_sent_entries_total'), k * STREAMS);
}

test('the receiver down for a few seconds, then back: every line arrives once, in order per stream', { timeout: 120_000 }, () =>
  outage(Number(process.env['VIGIL_LOGFWD_SHORT_OUTAGE_MS'] ?? 5_000)),
);

test('the receiver down for two minutes, then back: every line arrives once, in order per stream', { timeout: 300_000 }, () =>
  outage(Number(process.env['VIGIL_LOGFWD_OUTAGE_MS'] ?? 120_000)),
);

test('the forwarder killed with kill -9 mid-send: a restart sends every line, duplicates at most one batch', { timeout: 180_000 }, async () => {
  const receiver = await vigil('');
  // A slow receiver (150 ms a push) and small batches, so the kill finds a backlog and a push in flight.
  const proxy = await stormProxy(receiver.url);
  proxy.delayMs = 150;
  cleanups.push(() => proxy.close());
  const yaml = forwardTo(proxy.url, '      batchsize: 8KB\n');
  let fwd = await vigil(yaml);
  const n = 2000;
  for (let k = 0; k < n; k += 500) await push(fwd.url, k, k + 500);
  await waitFor(
    'part of the lines at the receiver',
    async () => ((await metric(fwd.url, 'promtail_sent_entries_total')) > (n * STREAMS) / 5 ? true : undefined),
    60_000,
    50,
  );
  fwd.proc.kill('SIGKILL');
  await exited(fwd.proc);
  const sentBefore = [...(await linesOf(receiver.url)).values()].reduce((a, l) => a + l.length, 0);
  assert.ok(sentBefore < n * STREAMS, `killed mid-send (${sentBefore} of ${n * STREAMS} lines had arrived)`);
  fwd = await vigil(yaml, fwd);
  const got = await waitForAll(receiver.url, n, 120_000);
  const duplicates = checkLines(got, n, true);
  // One batch holds at most 8 KiB of lines (at most 546 of these, 15 to 18 bytes each): the one in flight at the kill.
  const oneBatch = Math.floor(8192 / 'stream 0 line 0'.length);
  console.log(`kill -9 mid-send: ${sentBefore} of ${n * STREAMS} lines had arrived; ${duplicates} lines arrived twice (one batch: up to ${oneBatch})`);
  assert.ok(duplicates <= oneBatch, `duplicates at most one batch: ${duplicates}`);
});

test(
  'the forwarder restarted (SIGTERM) while the receiver is down: its unsent WAL survives the shutdown checkpoint, every line arrives',
  { timeout: 180_000 },
  async () => {
    const receiver = await vigil('');
    let fwd = await vigil(forwardTo(receiver.url));
    await push(fwd.url, 0, 100);
    checkLines(await waitForAll(receiver.url, 100), 100);
    receiver.proc.kill('SIGTERM');
    await exited(receiver.proc);
    for (let k = 100; k < 600; k += 100) await push(fwd.url, k, k + 100);
    // A clean stop seals every head and checkpoints the WAL: the segments the receiver has not taken must stay.
    fwd.proc.kill('SIGTERM');
    await exited(fwd.proc);
    fwd = await vigil(forwardTo(receiver.url), fwd);
    await push(fwd.url, 600, 650);
    const back = await vigil('', receiver);
    checkLines(await waitForAll(back.url, 650, 120_000), 650);
    assert.equal(await metric(fwd.url, 'promtail_dropped_entries_total'), 0);
  },
);

test('a clean stop sends what is waiting for its batch before the process ends', { timeout: 60_000 }, async () => {
  const receiver = await vigil('');
  // A minute's batchwait: only the stop can be what sends these lines.
  const fwd = await vigil(`logs:\n  forward_to:\n    - url: ${receiver.url}/loki/api/v1/push\n      batchwait: 1m\n`);
  await push(fwd.url, 0, 30);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal([...(await linesOf(receiver.url)).values()].flat().length, 0, 'nothing sent before the batch is due');
  fwd.proc.kill('SIGTERM');
  await exited(fwd.proc);
  checkLines(await linesOf(receiver.url), 30);
});

test('a reload that changes a forwarder goes on from its saved position: every line once, counters continued', { timeout: 120_000 }, async () => {
  const receiver = await vigil('');
  const fwd = await vigil(forwardTo(receiver.url), undefined, ['--web.enable-lifecycle']);
  await push(fwd.url, 0, 100);
  checkLines(await waitForAll(receiver.url, 100), 100);
  // The same name and url with other batching: the queue is restarted from where it was.
  fs.writeFileSync(path.join(fwd.dir, 'vigil.yml'), `self_scrape: false\n${forwardTo(receiver.url, '      batchsize: 16KB\n')}`);
  const r = await fetch(`${fwd.url}/-/reload`, { method: 'POST' });
  assert.equal(r.status, 200, await r.text());
  await push(fwd.url, 100, 200);
  checkLines(await waitForAll(receiver.url, 200), 200);
  await waitFor('the sent counter to count every line', async () =>
    (await metric(fwd.url, 'promtail_sent_entries_total')) === 200 * STREAMS ? true : undefined,
  );
});

test('a receiver that refuses a batch with 400: it is dropped and counted, later lines still arrive', { timeout: 120_000 }, async () => {
  const receiver = await vigil('limits:\n  max_line_size: 100\n');
  const fwd = await vigil(forwardTo(receiver.url));
  const long = 'x'.repeat(500);
  const res = await fetch(`${fwd.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ streams: [{ stream: { job: 'fwd', stream: 'long' }, values: [[String(BASE), long]] }] }),
  });
  assert.equal(res.status, 204, 'the forwarding Vigil takes the line (its own limit is larger)');
  await waitFor('the refused batch counted', async () =>
    (await metric(fwd.url, 'promtail_dropped_entries_total', 'reason="ingester_error"')) === 1 ? true : undefined,
  );
  assert.equal(await metric(fwd.url, 'promtail_dropped_bytes_total', 'reason="ingester_error"'), 500);
  assert.equal(await metric(fwd.url, 'promtail_batch_retries_total'), 0, 'a 400 is not retried');
  await push(fwd.url, 0, 50);
  checkLines(await waitForAll(receiver.url, 50), 50);
  const q = new URLSearchParams({ query: '{job="fwd", stream="0"}', start: String(BASE), limit: '100', direction: 'forward' });
  const body = (await (await fetch(`${receiver.url}/loki/api/v1/query_range?${q}`)).json()) as {
    data: { result: Array<{ values: Array<[string, string, Record<string, string>?]> }> };
  };
  const withMeta = body.data.result.flatMap((r) => r.values).filter((v) => v[2]);
  assert.deepEqual(
    withMeta.map((v) => [v[1], v[2]]),
    [0, 10, 20, 30, 40].map((k) => [`stream 0 line ${k}`, { trace_id: `t${k}` }]),
    'structured metadata is forwarded with its line',
  );
});

test('a 429 storm: the forwarder backs off (few pushes, little CPU) and sends everything once it ends', { timeout: 120_000 }, async () => {
  const receiver = await vigil('');
  const proxy = await stormProxy(receiver.url);
  cleanups.push(() => proxy.close());
  const fwd = await vigil(
    `logs:\n  forward_to:\n    - url: ${proxy.url}/loki/api/v1/push\n      batchwait: 200ms\n      backoff_config: { min_period: 100ms, max_period: 2s }\n` +
      `      tenant_id: team-a\n      external_labels: { cluster: eu-1 }\n`,
  );
  await push(fwd.url, 0, 50);
  checkLines(await waitForAll(receiver.url, 50), 50);
  proxy.storm = true;
  const before = proxy.requests;
  await push(fwd.url, 50, 100);
  const stormMs = Number(process.env['VIGIL_LOGFWD_STORM_MS'] ?? 10_000);
  await new Promise((r) => setTimeout(r, 1000));
  const cpu0 = cpuSeconds(fwd.proc.pid!);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, stormMs - 1000));
  const cpu = cpuSeconds(fwd.proc.pid!) - cpu0;
  const wall = (performance.now() - t0) / 1000;
  const requests = proxy.requests - before;
  proxy.storm = false;
  console.log(`429 storm: ${requests} pushes in ${stormMs} ms, forwarder CPU ${cpu.toFixed(3)} s over ${wall.toFixed(1)} s`);
  // Doubling from 100 ms to the 2 s cap: 5 tries in the first 3.1 s, then one each 2 s.
  assert.ok(requests <= 5 + Math.ceil(stormMs / 2000) + 2, `backoff: ${requests} pushes during the storm`);
  assert.ok(cpu / wall < 0.05, `no busy loop: ${cpu} CPU seconds in ${wall} s`);
  assert.ok((await metric(fwd.url, 'promtail_batch_retries_total')) > 0);
  checkLines(await waitForAll(receiver.url, 100, 30_000), 100);
  assert.equal(await metric(fwd.url, 'promtail_dropped_entries_total'), 0, '429 is retried, not dropped');
  assert.equal(proxy.lastHeaders['x-scope-orgid'], 'team-a', 'tenant_id is sent as X-Scope-OrgID');
  const series = (await (await fetch(`${receiver.url}/loki/api/v1/series?match[]=${encodeURIComponent('{job="fwd"}')}&start=${BASE}`)).json()) as {
    data: Array<Record<string, string>>;
  };
  assert.equal(series.data.length, STREAMS);
  for (const s of series.data) assert.equal(s['cluster'], 'eu-1', 'external labels are added to every stream');
});
