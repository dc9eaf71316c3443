/**
 * Native histograms through a real server: appended to its TSDB (head with a WAL; no ingest path
 * hands histograms over yet) and read back over /api/v1/query in Prometheus' `histogram` JSON shape,
 * from the head, from a block after a flush, and after a restart of the server on the same directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom } from '../../core/model/labels.js';
import { nopLogger } from '../../core/util/log.js';
import { defaultConfig } from '../config/config.js';
import { VigilServer } from '../cmd/server.js';
import { getJson, tempDir } from '../../testkit/helpers.js';

async function start(dir: string): Promise<{ server: VigilServer; url: string }> {
  const config = defaultConfig();
  config.storage.path = dir;
  config.listen = '127.0.0.1:0';
  const server = new VigilServer(config, { logger: nopLogger });
  await server.start();
  return { server, url: `http://${server.address()}` };
}

interface VectorSample {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, { count: string; sum: string; buckets: Array<[number, string, string, string]> }];
}

async function query(url: string, q: string, at: number): Promise<VectorSample[]> {
  const { status, body } = await getJson(`${url}/api/v1/query?query=${encodeURIComponent(q)}&time=${at / 1000}`);
  assert.equal(status, 200, JSON.stringify(body));
  return (body.data as { result: VectorSample[] }).result;
}

// Schema 0: bucket 0 is (0.5, 1], bucket 1 (1, 2]; negative bucket 0 is [-1, -0.5).
const at = (i: number): FloatHistogram =>
  FloatHistogram.of({
    schema: 0,
    count: 4 * i,
    sum: 2.5 * i,
    positiveSpans: [{ offset: 0, length: 2 }],
    positiveBuckets: [i, 2 * i],
    negativeSpans: [{ offset: 0, length: 1 }],
    negativeBuckets: [i],
  });

test('histograms appended to a server with a WAL are answered in the histogram shape, from head, block and after a restart', async () => {
  const { dir, cleanup } = tempDir();
  let { server, url } = await start(dir);
  try {
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;
    const labels = labelsFrom({ __name__: 'rpc_latency_seconds', job: 'api' });
    const app = server.db.appender();
    let ref = 0;
    for (let i = 1; i <= 10; i++) ref = app.appendHistogram(ref, labels, t0 + i * 15_000, at(i));
    app.commit();
    const last = t0 + 10 * 15_000;

    const check = async (where: string): Promise<void> => {
      const [s] = await query(url, 'rpc_latency_seconds', last);
      assert.ok(s?.histogram, `${where}: a histogram sample: ${JSON.stringify(s)}`);
      assert.equal(s.value, undefined);
      assert.deepEqual(s.metric, { __name__: 'rpc_latency_seconds', job: 'api' });
      assert.deepEqual(
        s.histogram,
        [
          last / 1000,
          {
            count: '40',
            sum: '25',
            buckets: [
              [1, '-1', '-0.5', '10'],
              [0, '0.5', '1', '10'],
              [0, '1', '2', '20'],
            ],
          },
        ],
        where,
      );
      const [c] = await query(url, 'histogram_count(increase(rpc_latency_seconds[1m]))', last);
      // Four samples 15 s apart in the minute: the increase of 12 over 45 s, extrapolated to 60 s.
      assert.ok(c?.value, `${where}: a float from histogram_count`);
      assert.ok(Math.abs(Number(c.value[1]) - 16) < 1e-9, `${where}: ${c.value[1]}`);
    };
    await check('head');
    await server.db.flush();
    assert.ok(server.db.listBlocks().length > 0, 'flushed into a block');
    await check('block');
    await server.stop();
    ({ server, url } = await start(dir));
    await check('after a restart');
  } finally {
    await server.stop();
    cleanup();
  }
});
