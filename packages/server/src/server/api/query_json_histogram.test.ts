import { LocalPromQueryService } from '../../metrics/query/local.js';
import { MetadataStore } from '../../metrics/metadata.js';
import { ExemplarStorage } from '../../metrics/exemplars/storage.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FloatHistogram } from '../../core/model/histogram.js';
import { labelsFrom } from '../../core/model/labels.js';
import { Engine } from '../../metrics/promql/engine/engine.js';
import { toApiJson } from '../../metrics/promql/engine/value.js';
import { Head } from '../../metrics/tsdb/head.js';
import { queryJsonChunks } from './query_json.js';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nopLogger } from '../../core/util/log.js';
import { Router } from './http.js';
import { registerQueryApi } from './query.js';
import { QueryGate } from './query_gate.js';

/** A head with one native-histogram counter growing by 60 observations (in (1,2] and (2,4]) a minute. */
function head(): Head {
  const hd = new Head({ maxFutureMs: Infinity });
  const app = hd.appender();
  const labels = labelsFrom({ __name__: 'req_seconds', job: 'api' });
  for (let i = 0; i <= 10; i++) {
    const h = FloatHistogram.of({ count: 60 * i, sum: 90 * i, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [30 * i, 30 * i] });
    app.appendHistogram(0, labels, i * 60_000, h);
  }
  app.append(0, labelsFrom({ __name__: 'up', job: 'api' }), 600_000, 1);
  app.commit();
  return hd;
}

async function text(chunks: AsyncGenerator<string>): Promise<string> {
  let s = '';
  for await (const c of chunks) s += c;
  return s;
}

describe("native histograms in Prometheus' API JSON", () => {
  it('writes an instant vector of histograms with [boundaryRule, lower, upper, count] buckets', async () => {
    const r = new Engine().instantQuery(head(), 'rate(req_seconds[5m])', 600_000);
    assert.deepEqual(r.warnings, []);
    const json = toApiJson(r.result);
    assert.deepEqual(json, {
      resultType: 'vector',
      result: [
        {
          metric: { job: 'api' },
          histogram: [
            600,
            {
              count: '1',
              sum: '1.5',
              buckets: [
                [0, '1', '2', '0.5'],
                [0, '2', '4', '0.5'],
              ],
            },
          ],
        },
      ],
    });
    assert.equal(await text(queryJsonChunks(r.result, [], undefined)), JSON.stringify({ status: 'success', data: json }));
  });

  it('writes a matrix with floats under values and histograms under histograms', async () => {
    const q = toApiJson(new Engine().rangeQuery(head(), 'histogram_quantile(0.5, rate(req_seconds[5m]))', 540_000, 600_000, 60_000).result);
    // Half the rate lies in (1,2]: the median is that bucket's upper bound.
    assert.deepEqual(q, {
      resultType: 'matrix',
      result: [
        {
          metric: { job: 'api' },
          values: [
            [540, '2'],
            [600, '2'],
          ],
        },
      ],
    });
    const r = new Engine().rangeQuery(head(), 'req_seconds', 540_000, 600_000, 60_000);
    const json = toApiJson(r.result);
    assert.deepEqual(json, {
      resultType: 'matrix',
      result: [
        {
          metric: { __name__: 'req_seconds', job: 'api' },
          histograms: [
            [
              540,
              {
                count: '540',
                sum: '810',
                buckets: [
                  [0, '1', '2', '270'],
                  [0, '2', '4', '270'],
                ],
              },
            ],
            [
              600,
              {
                count: '600',
                sum: '900',
                buckets: [
                  [0, '1', '2', '300'],
                  [0, '2', '4', '300'],
                ],
              },
            ],
          ],
        },
      ],
    });
    assert.equal(await text(queryJsonChunks(r.result, [], undefined)), JSON.stringify({ status: 'success', data: json }));
  });

  it('warns when rate() meets floats and histograms in one window', () => {
    const hd = head();
    const app = hd.appender();
    app.append(0, labelsFrom({ __name__: 'req_seconds', job: 'api' }), 660_000, 5);
    app.commit();
    const r = new Engine().instantQuery(hd, 'rate(req_seconds[5m])', 660_000);
    assert.deepEqual(toApiJson(r.result), { resultType: 'vector', result: [] });
    assert.deepEqual(r.warnings, ['PromQL warning: encountered a mix of histograms and floats for metric name "req_seconds"']);
  });
});

describe('native histograms over the query API (real HTTP, the head as store)', () => {
  it('answers /api/v1/query and /api/v1/query_range with histogram fields', async () => {
    const router = new Router(nopLogger);
    registerQueryApi(
      router,
      new LocalPromQueryService(new Engine(), head(), new MetadataStore(), new ExemplarStorage({ maxExemplars: 0 })),
      new QueryGate({ maxConcurrency: 2, queueTimeoutMs: 10_000 }),
      () => 600_000,
    );
    const server = http.createServer(router.listener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
    try {
      const instant = (await (await fetch(`${base}/query?query=${encodeURIComponent('sum(rate(req_seconds[5m]))')}&time=600`)).json()) as {
        data: { result: unknown[] };
      };
      assert.deepEqual(instant.data.result, [
        {
          metric: {},
          histogram: [
            600,
            {
              count: '1',
              sum: '1.5',
              buckets: [
                [0, '1', '2', '0.5'],
                [0, '2', '4', '0.5'],
              ],
            },
          ],
        },
      ]);
      const range = (await (await fetch(`${base}/query_range?query=req_seconds&start=540&end=600&step=60`)).json()) as {
        data: { result: { histograms: [number, { count: string }][]; values?: unknown }[] };
      };
      assert.deepEqual(
        range.data.result[0]!.histograms.map(([t, h]) => [t, h.count]),
        [
          [540, '540'],
          [600, '600'],
        ],
      );
      assert.equal(range.data.result[0]!.values, undefined);
      const warned = (await (await fetch(`${base}/query?query=${encodeURIComponent('max(req_seconds)')}&time=600`)).json()) as {
        data: { result: unknown[] };
        infos?: string[];
      };
      assert.deepEqual(warned.data.result, []);
      assert.deepEqual(warned.infos, ['PromQL info: ignored histogram in max aggregation']);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
