// The out-of-order window end to end: a running Vigil (its default 30m window) takes an OTLP batch
// that arrives minutes late whole, answers queries with the late and the timely samples as one
// series, and still has every late sample after a kill -9 and a restart (WAL replay). A point
// older than the window is refused alone, by name, in the OTLP partial_success.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exited, freePort, getJson, spawnVigil, tempDir } from '../../testkit/helpers.js';
import { encodeMetricsRequest, type EncMetric } from '../../testkit/otlp_metrics_encode.js';

const SERIES = 20;
const MIN = 60_000;

/** One gauge point per series at `timeMs`, valued `value(k)`. */
function batch(timeMs: number, value: (k: number) => number): EncMetric[] {
  return [{ name: 'late_gauge', points: Array.from({ length: SERIES }, (_, k) => ({ attrs: [['k', String(k)]] as const, timeMs, value: value(k) })) }];
}

async function postOtlp(url: string, metrics: EncMetric[]): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${url}/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: encodeMetricsRequest([['service.name', 'late-exporter']], metrics),
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/** The range query's points of series k=0 over [from, to], a step a minute. */
async function read(url: string, from: number, to: number): Promise<{ first: Array<[number, string]> }> {
  const r = await getJson(`${url}/api/v1/query_range?query=late_gauge&start=${from / 1000}&end=${to / 1000}&step=60`);
  if (!r.body.data) throw new Error(`query_range answered ${r.status}: ${JSON.stringify(r.body)}`);
  const data = (r.body.data as { result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> }).result;
  const first = data.find((s) => s.metric['k'] === '0')?.values ?? [];
  return { first };
}

test('a late OTLP batch inside the window is accepted whole, queried in order, and survives kill -9', async () => {
  const { dir, cleanup } = tempDir('vigil-ooo-');
  // Minute-aligned, so the query's 60s steps land on the samples themselves.
  const now = Math.floor(Date.now() / MIN) * MIN;
  const port = await freePort();
  let vigil = await spawnVigil(dir, port);
  try {
    // The exporter's timely points: now-20m, now-10m and now.
    for (const t of [now - 20 * MIN, now - 10 * MIN, now])
      assert.equal(
        (
          await postOtlp(
            vigil.url,
            batch(t, (k) => k + t / MIN),
          )
        ).status,
        200,
      );
    // The batch held back by a retrying exporter: 15 minutes old, behind every series' newest.
    const late = await postOtlp(
      vigil.url,
      batch(now - 15 * MIN, (k) => -k - 1),
    );
    assert.equal(late.status, 200);
    assert.equal(late.body.length, 0, `a full success, not ${late.body.toString('latin1')}`);
    const expectFirst: Array<[number, string]> = [
      [(now - 20 * MIN) / 1000, String(now / MIN - 20)],
      [(now - 15 * MIN) / 1000, '-1'],
      [(now - 10 * MIN) / 1000, String(now / MIN - 10)],
      [now / 1000, String(now / MIN)],
    ];
    // Steps between samples repeat the one before (lookback): only the steps on samples are compared.
    const got = await read(vigil.url, now - 20 * MIN, now);
    assert.deepEqual(
      got.first.filter(([t]) => expectFirst.some(([e]) => e === t)),
      expectFirst,
    );
    const counted = await getJson(`${vigil.url}/api/v1/query?query=count_over_time(late_gauge[25m])&time=${now / 1000}`);
    const counts = (counted.body.data as { result: Array<{ value: [number, string] }> }).result.map((s) => s.value[1]);
    assert.deepEqual(
      counts,
      Array.from({ length: SERIES }, () => '4'),
      'each series: three timely samples and the late one, none twice',
    );
    const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`^vigil_tsdb_head_out_of_order_samples_appended_total ${SERIES}$`, 'm'));
    // Older than the window (30m behind the newest): that point alone is refused, by name.
    const tooOld = await postOtlp(vigil.url, [
      { name: 'late_gauge', points: [{ attrs: [['k', '0']], timeMs: now - 31 * MIN, value: 1 }] },
      { name: 'other_gauge', points: [{ attrs: [], timeMs: now, value: 1 }] },
    ]);
    assert.equal(tooOld.status, 200);
    assert.match(tooOld.body.toString('latin1'), /out of order sample/);

    vigil.proc.kill('SIGKILL');
    await exited(vigil.proc);
    vigil = await spawnVigil(dir, port);
    const again = await getJson(`${vigil.url}/api/v1/query?query=count_over_time(late_gauge[25m])&time=${now / 1000}`);
    const replayed = (again.body.data as { result: Array<{ value: [number, string] }> }).result.map((s) => s.value[1]);
    assert.deepEqual(replayed, counts, 'after kill -9 and WAL replay: the same samples');
  } finally {
    vigil.proc.kill('SIGKILL');
    await exited(vigil.proc);
    cleanup();
  }
});
