/**
 * An OTLP ExportMetricsServiceRequest encoder for gauges and sums (tests and benchmarks): one
 * resource per call, string attributes, double values. Field numbers as in metrics/otlp/decode_proto.ts.
 */
import { ByteWriter } from '../core/util/bytes.js';

export interface GaugePoint {
  attrs: ReadonlyArray<readonly [string, string]>;
  timeMs: number;
  value: number;
  /** DataPointFlags (1: no recorded value); 0 when absent. */
  flags?: number;
}

export interface EncMetric {
  name: string;
  unit?: string;
  /** A sum when set (cumulative), else a gauge. */
  monotonic?: boolean;
  points: readonly GaugePoint[];
}

function ld(w: ByteWriter, field: number, body: Uint8Array): void {
  w.uvarint((field << 3) | 2);
  w.uvarint(body.length);
  w.bytes(body);
}

function str(w: ByteWriter, field: number, s: string): void {
  ld(w, field, Buffer.from(s, 'utf8'));
}

function keyValue(k: string, v: string): Buffer {
  const any = new ByteWriter(v.length + 4);
  str(any, 1, v);
  const kv = new ByteWriter(k.length + v.length + 8);
  str(kv, 1, k);
  ld(kv, 2, any.view());
  return Buffer.from(kv.view());
}

function fixed64(w: ByteWriter, field: number, n: bigint): void {
  w.uvarint((field << 3) | 1);
  w.u32(Number(n & 0xffffffffn));
  w.u32(Number(n >> 32n));
}

/** Encodes one resource's metrics as an ExportMetricsServiceRequest. */
export function encodeMetricsRequest(resource: ReadonlyArray<readonly [string, string]>, metrics: readonly EncMetric[]): Buffer {
  const scope = new ByteWriter(1 << 16);
  for (const m of metrics) {
    const data = new ByteWriter(1 << 12);
    for (const p of m.points) {
      const dp = new ByteWriter(128);
      for (const [k, v] of p.attrs) ld(dp, 7, keyValue(k, v));
      fixed64(dp, 3, BigInt(p.timeMs) * 1_000_000n);
      dp.uvarint((4 << 3) | 1);
      dp.f64(p.value);
      if (p.flags) {
        dp.uvarint(8 << 3);
        dp.uvarint(p.flags);
      }
      ld(data, 1, dp.view());
    }
    if (m.monotonic) {
      data.uvarint(2 << 3);
      data.uvarint(2);
      data.uvarint(3 << 3);
      data.uvarint(1);
    }
    const metric = new ByteWriter(data.length + 64);
    str(metric, 1, m.name);
    if (m.unit) str(metric, 3, m.unit);
    ld(metric, m.monotonic ? 7 : 5, data.view());
    ld(scope, 2, metric.view());
  }
  const res = new ByteWriter(256);
  for (const [k, v] of resource) ld(res, 1, keyValue(k, v));
  const rm = new ByteWriter(scope.length + 512);
  ld(rm, 1, res.view());
  ld(rm, 2, scope.view());
  const req = new ByteWriter(rm.length + 16);
  ld(req, 1, rm.view());
  return Buffer.from(req.view());
}

const jsonAttrs = (attrs: ReadonlyArray<readonly [string, string]>): unknown[] => attrs.map(([key, v]) => ({ key, value: { stringValue: v } }));

/** The same request as {@link encodeMetricsRequest} in OTLP/JSON (times as decimal strings, as the JSON mapping has 64-bit integers). */
export function encodeMetricsRequestJson(resource: ReadonlyArray<readonly [string, string]>, metrics: readonly EncMetric[]): string {
  const out = metrics.map((m) => {
    const dataPoints = m.points.map((p) => ({
      attributes: jsonAttrs(p.attrs),
      timeUnixNano: `${p.timeMs}000000`,
      asDouble: p.value,
      ...(p.flags ? { flags: p.flags } : {}),
    }));
    const data = m.monotonic ? { sum: { dataPoints, aggregationTemporality: 2, isMonotonic: true } } : { gauge: { dataPoints } };
    return { name: m.name, ...(m.unit ? { unit: m.unit } : {}), ...data };
  });
  return JSON.stringify({ resourceMetrics: [{ resource: { attributes: jsonAttrs(resource) }, scopeMetrics: [{ metrics: out }] }] });
}
