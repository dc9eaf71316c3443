/**
 * The metadata endpoints (`/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`) run
 * like queries (issue 19): in slices, through the query gate, cancellable. Through the real HTTP API
 * of an in-process server holding 60,000 series, part in a block and part in the head. Assertions
 * are on order and outcome, never on durations.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom } from '../../core/model/labels.js';
import { getJson, postWrite, startServer, waitFor, writeBody } from '../../testkit/helpers.js';

const SERIES = 60_000;
const T = Date.now() - 10 * 60_000;

type Server = Awaited<ReturnType<typeof startServer>>;
let s: Server;
after(async () => {
  await s?.stop();
});

/** One gauge of Vigil's own /metrics. */
async function selfMetric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} on /metrics`);
  return Number(line.slice(series.length + 1));
}

async function load(from: number, to: number, t: number): Promise<void> {
  for (let i = from; i < to; i += 2000) {
    const batch = [];
    for (let k = i; k < Math.min(to, i + 2000); k++) {
      batch.push({
        labels: labelsFrom({ __name__: `meta_${k % 10}`, job: 'bench', id: String(k).padStart(6, '0') }),
        samples: [[t, k]] as Array<[number, number]>,
      });
    }
    const r = await postWrite(s.url, writeBody(batch));
    assert.equal(r.status, 204, r.text);
  }
}

test('setup: 60,000 series, the first half flushed into a block', async () => {
  s = await startServer((c) => {
    c.limits.max_global_series = 0;
    c.limits.max_global_series_per_metric = 0;
    c.selfScrape = false; // only the test's series in the store
  });
  await load(0, SERIES / 2, T);
  await s.server.db.flush();
  assert.equal(s.server.db.listBlocks().length, 1);
  await load(SERIES / 2, SERIES, T + 60_000);
});

test('answers: series (streamed past 1,000 entries, same envelope), limit, labels, label values', async () => {
  const all = await getJson(`${s.url}/api/v1/series?match[]=${encodeURIComponent('{job="bench"}')}`);
  assert.equal(all.status, 200);
  const data = all.body.data as Array<Record<string, string>>;
  assert.equal(data.length, SERIES);
  assert.deepEqual(data[0], { __name__: 'meta_0', id: '000000', job: 'bench' });
  assert.deepEqual(data.at(-1), { __name__: 'meta_9', id: '059999', job: 'bench' });
  const cut = await getJson(`${s.url}/api/v1/series?match[]=${encodeURIComponent('meta_3')}&limit=5`);
  assert.deepEqual(
    (cut.body.data as Array<Record<string, string>>).map((r) => r['id']),
    ['000003', '000013', '000023', '000033', '000043'],
  );
  assert.deepEqual(cut.body.warnings, ['results truncated due to limit']);
  const labels = await getJson(`${s.url}/api/v1/labels`);
  assert.deepEqual(labels.body.data, ['__name__', 'id', 'job']);
  const ids = await getJson(`${s.url}/api/v1/label/id/values`);
  const values = ids.body.data as string[];
  assert.equal(values.length, SERIES, 'values from the block and the head');
  assert.deepEqual(values.slice(0, 2), ['000000', '000001']);
  const some = await getJson(`${s.url}/api/v1/label/id/values?match[]=${encodeURIComponent('{__name__="meta_7",id=~"0599.*"}')}`);
  assert.deepEqual(some.body.data, ['059907', '059917', '059927', '059937', '059947', '059957', '059967', '059977', '059987', '059997']);
});

test('a series call over every series holds a query slot while writes are acknowledged', async () => {
  let done = false;
  const call = fetch(`${s.url}/api/v1/series?match[]=${encodeURIComponent('{id=~".+"}')}`).then(async (r) => {
    const body = (await r.json()) as { data: unknown[] };
    done = true;
    return { status: r.status, n: body.data.length };
  });
  // The gauge is 1 only while the call is being worked on; a call that held the event loop from
  // start to end could never be seen in it, since /metrics would only be answered afterwards.
  let during = 0;
  let tick = 0;
  while (!done) {
    const before = await selfMetric(s.url, 'vigil_engine_queries_running');
    const ack = await postWrite(s.url, writeBody([{ labels: labelsFrom({ __name__: 'probe' }), samples: [[Date.now() + tick, tick++]] }]));
    assert.equal(ack.status, 204);
    const afterAck = await selfMetric(s.url, 'vigil_engine_queries_running');
    // Running before and after: the whole write was taken and acknowledged during the call.
    if (before === 1 && afterAck === 1) during++;
  }
  const r = await call;
  assert.equal(r.status, 200);
  assert.equal(r.n, SERIES);
  assert.ok(during > 0, 'at least one write was acknowledged while the series call ran');
});

test('a client that goes away cancels its series call; the slot is given back', async () => {
  const canceled = async (): Promise<number> => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('vigil_engine_queries_ended_total{reason="canceled"}'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const before = await canceled();
  const ac = new AbortController();
  const call = fetch(`${s.url}/api/v1/series?match[]=${encodeURIComponent('{id=~".+"}')}`, { signal: ac.signal }).catch((e: Error) => e);
  await waitFor('the call to take its slot', async () => ((await selfMetric(s.url, 'vigil_engine_queries_running')) === 1 ? true : undefined), 30_000, 5);
  ac.abort();
  assert.ok((await call) instanceof Error);
  await waitFor('the canceled call to be counted', async () => ((await canceled()) > before ? true : undefined), 30_000, 20);
  assert.equal(await selfMetric(s.url, 'vigil_engine_queries_running'), 0);
});
