/**
 * The OTLP metrics benchmark's data, one set of data points encoded both ways (./otlp_metrics.ts
 * sends it to servers, ./otlp_inproc.ts feeds it to the receivers in-process): `series` series
 * (20 gauge metrics × series/20 label sets of 3 labels, job and instance from the resource), each
 * with one point every 15 s for `steps` steps. Each step is one request per sender holding its
 * half of the metrics, so each sender's requests are in step order.
 */
import { gzipSync } from 'node:zlib';
import { labelsFrom } from '../../core/model/labels.js';
import { snappyEncode } from '../../core/util/snappy.js';
import { WriteRequestEncoder } from '../../metrics/remotewrite/proto.js';
import { encodeMetricsRequest, encodeMetricsRequestJson, type EncMetric } from '../otlp_metrics_encode.js';

export const METRICS = 20;
export const STEP_MS = 15_000;
/** Senders, each with its own share of the metrics. */
export const SHARDS = 2;
const RESOURCE: Array<[string, string]> = [
  ['service.name', 'bench'],
  ['service.instance.id', 'host-1:9100'],
];

function attrsOf(i: number): Array<[string, string]> {
  return [
    ['device', `dev${i % 16}`],
    ['mode', `m${Math.floor(i / 16) % 8}`],
    ['zone', `z${Math.floor(i / 128)}`],
  ];
}
const valueOf = (m: number, i: number, step: number): number => ((m * 7919 + i * 104729 + step * 31) % 100_000) / 7;

/** Request bodies per sender, in send order. */
export interface BenchBodies {
  points: number;
  /** remote_write 1.0, snappy. */
  rw: Buffer[][];
  /** OTLP protobuf, plain. */
  otlp: Buffer[][];
  /** OTLP protobuf, gzip. */
  gzip: Buffer[][];
  /** OTLP/JSON, plain. */
  json: Buffer[][];
}

export function benchBodies(series: number, steps: number, nowMs = Date.now()): BenchBodies {
  const perMetric = Math.max(1, Math.floor(series / METRICS));
  const start = Math.floor(nowMs / STEP_MS) * STEP_MS - steps * STEP_MS;
  const out: BenchBodies = { points: steps * METRICS * perMetric, rw: [[], []], otlp: [[], []], gzip: [[], []], json: [[], []] };
  for (let s = 0; s < steps; s++) {
    const t = start + s * STEP_MS;
    for (let shard = 0; shard < SHARDS; shard++) {
      const rw = new WriteRequestEncoder();
      const metrics: EncMetric[] = [];
      for (let m = shard; m < METRICS; m += SHARDS) {
        const name = `bench_metric_${m}`;
        const points = [];
        for (let i = 0; i < perMetric; i++) {
          const attrs = attrsOf(i);
          const v = valueOf(m, i, s);
          points.push({ attrs, timeMs: t, value: v });
          rw.addSeries(labelsFrom({ __name__: name, job: 'bench', instance: 'host-1:9100', ...Object.fromEntries(attrs) }), [t], [v]);
        }
        metrics.push({ name, points });
      }
      out.rw[shard]!.push(snappyEncode(rw.finish()));
      const body = encodeMetricsRequest(RESOURCE, metrics);
      out.otlp[shard]!.push(body);
      out.gzip[shard]!.push(gzipSync(body));
      out.json[shard]!.push(Buffer.from(encodeMetricsRequestJson(RESOURCE, metrics)));
    }
  }
  return out;
}
