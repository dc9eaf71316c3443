/** A remote_write 2.0 Request encoder, for tests, benchmarks and fuzzing (Debian's Prometheus 2.42 cannot send 2.0). */
import type { Labels } from '../core/model/labels.js';
import { METRIC_TYPES, type V2Series } from '../metrics/remotewrite/v2.js';
import { encodeHistogramMessage } from '../metrics/remotewrite/histogram_proto.js';

/** Encodes a v2 Request (for tests, benchmarks and fuzzing): each series' labels and samples, with optional extras. */
export function encodeV2Request(series: ReadonlyArray<Partial<V2Series> & { labels: Labels }>): Buffer {
  const symbols = new Map<string, number>([['', 0]]);
  const ref = (s: string): number => {
    let r = symbols.get(s);
    if (r === undefined) symbols.set(s, (r = symbols.size));
    return r;
  };
  const parts: Buffer[] = [];
  const bodies = series.map((s) => {
    const out: Buffer[] = [];
    out.push(lenField(1, packed(s.labels.flatMap((l) => [ref(l.name), ref(l.value)]))));
    (s.ts ?? []).forEach((t, i) => out.push(lenField(2, Buffer.concat([f64Field(1, s.vs![i]!), varField(2, t)]))));
    for (const x of s.histograms ?? []) out.push(lenField(3, encodeHistogramMessage(x.h, x.t)));
    for (const e of s.exemplars ?? [])
      out.push(
        lenField(4, Buffer.concat([lenField(1, packed(e.labels.flatMap((l) => [ref(l.name), ref(l.value)]))), f64Field(2, e.value), varField(3, e.ts)])),
      );
    if (s.metadata) {
      const type = METRIC_TYPES.indexOf(s.metadata.type as (typeof METRIC_TYPES)[number]);
      out.push(lenField(5, Buffer.concat([varField(1, Math.max(0, type)), varField(3, ref(s.metadata.help)), varField(4, ref(s.metadata.unit))])));
    }
    if (s.createdTs) out.push(varField(6, s.createdTs));
    return Buffer.concat(out);
  });
  for (const s of symbols.keys()) parts.push(lenField(4, Buffer.from(s)));
  for (const b of bodies) parts.push(lenField(5, b));
  return Buffer.concat(parts);
}

/** A protobuf varint's bytes (negatives as 64-bit two's complement). */
export function varint(x: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, BigInt(x));
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function varField(no: number, x: number): Buffer {
  return Buffer.from([...varint(no << 3), ...varint(x)]);
}

function f64Field(no: number, x: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = (no << 3) | 1;
  b.writeDoubleLE(x, 1);
  return b;
}

/** A length-delimited protobuf field (shared with rw_histogram.ts). */
export function lenField(no: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([...varint((no << 3) | 2), ...varint(body.length)]), body]);
}

function packed(xs: number[]): Buffer {
  return Buffer.from(xs.flatMap(varint));
}
