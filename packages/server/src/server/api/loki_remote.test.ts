// LogQL delegated to remote storage: a Vigil with `logs.storage.type: remote` pointed at a second
// `vigil start` that holds the lines (the Loki-compatible remote; no Loki package is installable
// here) answers the Loki API as the Vigil holding the data does, and maps the remote's failures to
// the API's errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exited, freePort, spawnVigil, tempDir, waitFor, type VigilProcess } from '../../testkit/helpers.js';
import { frames, openTail } from '../../testkit/ws_tail.js';

const procs: VigilProcess[] = [];
const cleanups: Array<() => void> = [];
after(async () => {
  for (const p of procs) {
    p.proc.kill('SIGTERM');
    await exited(p.proc);
  }
  for (const c of cleanups) c();
});

async function vigil(yaml: string): Promise<VigilProcess> {
  const { dir, cleanup } = tempDir('vigil-loki-remote-');
  cleanups.push(cleanup);
  fs.writeFileSync(path.join(dir, 'vigil.yml'), `self_scrape: false\n${yaml}`);
  const v = await spawnVigil(path.join(dir, 'data'), await freePort(), ['--config', path.join(dir, 'vigil.yml')]);
  procs.push(v);
  return v;
}

const NOW_MS = Date.now();
const T0 = BigInt(NOW_MS - 1_800_000) * 1_000_000n;
const ns = (ms: number): string => String(T0 + BigInt(ms) * 1_000_000n);
let holder: VigilProcess;
let remote: VigilProcess;

before(async () => {
  holder = await vigil('');
  remote = await vigil(`logs:\n  storage:\n    type: remote\n    remote: { url: ${holder.url} }\n`);
  const streams = [];
  for (const app of ['api', 'web'])
    for (const level of ['info', 'error'])
      streams.push({
        stream: { app, level, env: 'prod' },
        values: Array.from({ length: 300 }, (_, i) => {
          const line =
            app === 'api'
              ? JSON.stringify({ msg: i % 7 === 0 ? 'timeout talking to db' : 'ok', status: 200 + (i % 3) * 100, request_id: `req-${i % 50}`, took_ms: i % 90 })
              : `method=GET path=/p${i % 5} status=${i % 4 === 0 ? 500 : 200} request_id=req-${i % 50}`;
          return i % 10 === 0 ? [ns(i * 1000 + (level === 'error' ? 1 : 0)), line, { trace_id: `t${i}` }] : [ns(i * 1000 + (level === 'error' ? 1 : 0)), line];
        }),
      });
  const res = await fetch(`${holder.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ streams }),
  });
  assert.equal(res.status, 204, await res.text());
});

/** The answer of `path` from both Vigils, without the parts that differ by nature (timings). */
async function both(pathAndQuery: string): Promise<{ local: unknown; viaRemote: unknown; status: [number, number] }> {
  const get = async (base: string): Promise<[number, unknown]> => {
    const r = await fetch(`${base}${pathAndQuery}`);
    const body = (await r.json()) as { data?: { stats?: unknown; tookMs?: unknown } };
    if (body.data && typeof body.data === 'object') {
      delete body.data.stats;
      delete body.data.tookMs;
    }
    return [r.status, body];
  };
  const [[s1, local], [s2, viaRemote]] = await Promise.all([get(holder.url), get(remote.url)]);
  return { local, viaRemote, status: [s1, s2] };
}

const range = `start=${ns(0)}&end=${ns(400_000)}`;
const q = (query: string): string => encodeURIComponent(query);

test('queries, labels, series and the UI pages answered through the remote equal the local answers', async () => {
  const paths = [
    `/loki/api/v1/query_range?query=${q('{app="api"}')}&${range}&limit=50&direction=forward`,
    `/loki/api/v1/query_range?query=${q('{env="prod"} |= "timeout"')}&${range}&limit=1000`,
    `/loki/api/v1/query_range?query=${q('{app="api"} | json | status >= 300 | line_format "{{.msg}} {{.status}}"')}&${range}&limit=100`,
    `/loki/api/v1/query_range?query=${q('{app="web"} | logfmt | status="500"')}&${range}&limit=20&direction=backward`,
    `/loki/api/v1/query_range?query=${q('sum by (level) (count_over_time({env="prod"}[1m]))')}&${range}&step=60`,
    `/loki/api/v1/query_range?query=${q('rate({app="web"} |= "status=500" [2m])')}&${range}&step=30`,
    `/loki/api/v1/query_range?query=${q('topk(1, sum by (app) (bytes_over_time({env="prod"}[5m])))')}&${range}&step=120`,
    `/loki/api/v1/query?query=${q('sum(count_over_time({app="api"} | json | took_ms > 50 [10m]))')}&time=${ns(300_000)}`,
    `/loki/api/v1/query?query=${q('{level="error"}')}&time=${ns(300_000)}&limit=5`,
    `/loki/api/v1/labels?${range}`,
    `/loki/api/v1/label/app/values?${range}`,
    `/loki/api/v1/label/level/values?${range}&query=${q('{app="web"}')}`,
    `/loki/api/v1/series?${range}&match[]=${q('{app="api"}')}&match[]=${q('{level="error"}')}`,
    `/loki/api/v1/index/stats?${range}&query=${q('{app="api"}')}`,
    `/loki/api/v1/index/volume?${range}&query=${q('{env="prod"}')}`,
    `/loki/api/v1/index/volume_range?${range}&query=${q('{env="prod"}')}&step=60&targetLabels=app`,
    `/loki/api/v1/patterns?${range}&query=${q('{app="web"}')}&step=60`,
    `/loki/api/v1/facets?query=${q('{app="api"} | json')}&${range}`,
    `/loki/api/v1/detected_fields?query=${q('{app="web"}')}&${range}`,
    `/loki/api/v1/detected_labels?query=${q('{env="prod"}')}&${range}`,
    `/loki/api/v1/context?stream=${q('{app="web", level="info"}')}&ts=${ns(150_000)}&before=3&after=3`,
    `/loki/api/v1/correlate?id=req-7&${range}`,
  ];
  for (const p of paths) {
    const { local, viaRemote, status } = await both(p);
    assert.deepEqual(status, [200, 200], `${p}: ${JSON.stringify(viaRemote)}`);
    assert.deepEqual(viaRemote, local, p);
    const text = JSON.stringify(local);
    assert.ok(
      !/"(data|result|values|lines|before|fields|facets|detectedLabels)":(\[\]|\{\}|null)/.test(text) && text.length > 40,
      `${p} answers something: ${text}`,
    );
  }
});

test("the remote's own refusal keeps its status and type: a query over the remote's max_bytes_read is 422 execution through both", async () => {
  const small = await vigil('query:\n  max_bytes_read: 1KB\n');
  const viaSmall = await vigil(`logs:\n  storage:\n    type: remote\n    remote: { url: ${small.url} }\n`);
  const values = Array.from({ length: 100 }, (_, i) => [ns(i * 1000), `a line long enough to pass the budget quickly ${i}`]);
  const pushed = await fetch(`${small.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ streams: [{ stream: { app: 'big' }, values }] }),
  });
  assert.equal(pushed.status, 204);
  const path = `/loki/api/v1/query_range?query=${q('sum(count_over_time({app="big"}[10m]))')}&${range}&step=60`;
  const [direct, through] = await Promise.all([fetch(small.url + path), fetch(viaSmall.url + path)]);
  assert.deepEqual([direct.status, through.status], [422, 422]);
  const [a, b] = (await Promise.all([direct.json(), through.json()])) as [{ errorType: string; error: string }, { errorType: string; error: string }];
  assert.equal(a.errorType, 'execution');
  assert.equal(b.errorType, 'execution');
  assert.equal(b.error, a.error, "the remote's message is passed on");
});

test('errors: a query Vigil cannot parse is the same 400 in both modes; a remote that is down is 503 with Retry-After', async () => {
  const bad = await both(`/loki/api/v1/query_range?query=${q('{app="api"} |= ')}&${range}`);
  assert.deepEqual(bad.status, [400, 400]);
  assert.deepEqual(bad.viaRemote, bad.local);
  const port = await freePort();
  const down = await vigil(`logs:\n  storage:\n    type: remote\n    remote: { url: http://127.0.0.1:${port}, timeout: 5s }\n`);
  const r = await fetch(`${down.url}/loki/api/v1/query_range?query=${q('{app="api"}')}&${range}`);
  assert.equal(r.status, 503);
  assert.ok(Number(r.headers.get('retry-after')) > 0);
  const body = (await r.json()) as { errorType: string; error: string };
  assert.equal(body.errorType, 'unavailable');
  assert.match(body.error, /unreachable/);
  const labels = await fetch(`${down.url}/loki/api/v1/labels`);
  assert.equal(labels.status, 503, 'metadata calls map the same way');
});

test('an ingest node: lines pushed into a Vigil that forwards to the remote and queries it come back through the remote', async () => {
  const node = await vigil(
    `logs:\n  forward_to:\n    - url: ${holder.url}/loki/api/v1/push\n      batchwait: 100ms\n` +
      `      external_labels: { node: edge-1 }\n  storage:\n    type: remote\n    remote: { url: ${holder.url} }\n`,
  );
  const line = `forwarded through an ingest node ${Date.now()}`;
  const pushed = await fetch(`${node.url}/loki/api/v1/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ streams: [{ stream: { app: 'edge' }, values: [[ns(200_000), line]] }] }),
  });
  assert.equal(pushed.status, 204);
  const path = `/loki/api/v1/query_range?query=${q('{app="edge"}')}&${range}`;
  const got = await waitFor('the line through the remote', async () => {
    const body = (await (await fetch(node.url + path)).json()) as { data: { result: Array<{ stream: Record<string, string>; values: string[][] }> } };
    return body.data.result.length ? body.data.result : undefined;
  });
  assert.deepEqual(got, [{ stream: { app: 'edge', node: 'edge-1' }, values: [[ns(200_000), line]] }]);
});

test('live tail through the remote: the backfill, then new lines as the remote takes them, as a tail of the remote itself shows them', async () => {
  const query = `query=${q('{app="tailme"} |= "keep"')}&start=${ns(0)}`;
  const sent = async (lines: string[]): Promise<void> => {
    const t = BigInt(Date.now()) * 1_000_000n;
    const values = lines.map((l, i) => [String(t + BigInt(i)), l]);
    const r = await fetch(`${holder.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ streams: [{ stream: { app: 'tailme' }, values }] }),
    });
    assert.equal(r.status, 204);
  };
  await sent(['keep old 1', 'drop old', 'keep old 2']);
  const port = (url: string): number => Number(new URL(url).port);
  const [direct, viaRemote] = await Promise.all([openTail(port(holder.url), query), openTail(port(remote.url), query)]);
  assert.match(viaRemote.head, /^HTTP\/1.1 101/);
  const lines = (t: { received: () => Buffer }): string[] =>
    frames(t.received()).flatMap((f) =>
      (JSON.parse(f.payload.toString()) as { streams: Array<{ values: string[][] }> }).streams.flatMap((s) => s.values.map((v) => v[1]!)),
    );
  await waitFor('the backfill', async () => (lines(viaRemote).length >= 2 ? true : undefined), 10_000, 20);
  assert.deepEqual(lines(viaRemote), ['keep old 1', 'keep old 2']);
  await sent(['keep new 1', 'drop new', 'keep new 2']);
  await waitFor('the new lines', async () => (lines(viaRemote).length >= 4 ? true : undefined), 10_000, 50);
  assert.deepEqual(lines(viaRemote), ['keep old 1', 'keep old 2', 'keep new 1', 'keep new 2']);
  assert.deepEqual(lines(viaRemote), lines(direct), 'the same lines as a tail of the remote itself');
  direct.socket.destroy();
  viaRemote.socket.destroy();
});
