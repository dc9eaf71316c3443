/**
 * Prometheus remote_read's protobuf messages (prompb `remote.proto` and `types.proto`): the
 * ReadRequest Vigil sends, and the two answers a server may give. A server that knows the streamed
 * protocol answers `STREAMED_XOR_CHUNKS` with a stream of frames, each a uvarint length, a
 * big-endian CRC-32C of the message and a ChunkedReadResponse (one series' chunks, or part of
 * them, for one query). An older one answers `SAMPLES`: one snappy-compressed ReadResponse with
 * every query's series and samples.
 */
import type { Matcher } from '../../core/model/matcher.js';
import { sortLabels, type Label, type Labels } from '../../core/model/labels.js';
import { crc32c } from '../../core/util/crc32c.js';
import { ProtoFields } from '../../core/otlp/protobuf.js';
import { putVarint, readLabelPair, varintSize } from '../remotewrite/proto.js';
import { VigilError } from '../../core/errors.js';

/** `ReadRequest.ResponseType`: the encodings a client accepts, in order of preference. */
export const ResponseType = { samples: 0, streamedXorChunks: 1 } as const;

/** `Chunk.Encoding`. Only XOR carries floats; the histogram encodings are not read yet. */
export const ChunkEncoding = { unknown: 0, xor: 1, histogram: 2, floatHistogram: 3 } as const;

/** `LabelMatcher.Type`, by PromQL operator. */
const MATCHER_TYPE: Record<Matcher['type'], number> = { '=': 0, '!=': 1, '=~': 2, '!~': 3 };

/** One query of a ReadRequest. */
export interface ReadQuery {
  readonly start: number;
  readonly end: number;
  readonly matchers: readonly Matcher[];
}

/** An answer that breaks the protocol (bad protobuf, a failed checksum). */
export class RemoteReadProtocolError extends VigilError {
  constructor(message: string) {
    super('internal', message);
  }
}

const fail = (detail: string): Error => new RemoteReadProtocolError(`remote_read answer: ${detail}`);

/** A length-delimited field: tag, length, bytes. */
function lenField(tag: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(1 + varintSize(body.length) + body.length);
  out[0] = tag;
  const p = putVarint(out, 1, body.length);
  body.copy(out, p);
  return out;
}

function varintField(tag: number, x: number): Buffer {
  const out = Buffer.allocUnsafe(1 + varintSize(x));
  out[0] = tag;
  putVarint(out, 1, x);
  return out;
}

/** Encodes a ReadRequest (not yet snappy-compressed). */
export function encodeReadRequest(queries: readonly ReadQuery[], accepted: readonly number[]): Buffer {
  const parts: Buffer[] = [];
  for (const q of queries) {
    const fields: Buffer[] = [varintField(0x08, q.start), varintField(0x10, q.end)];
    for (const m of q.matchers) {
      const mb = [varintField(0x08, MATCHER_TYPE[m.type]), lenField(0x12, Buffer.from(m.name)), lenField(0x1a, Buffer.from(m.value))];
      fields.push(lenField(0x1a, Buffer.concat(mb)));
    }
    parts.push(lenField(0x0a, Buffer.concat(fields)));
  }
  // accepted_response_types: a packed repeated enum (each value below 128 is one byte).
  parts.push(lenField(0x12, Buffer.from(accepted)));
  return Buffer.concat(parts);
}

/** What a decoder hands on: a series of query `query` with its samples or chunks. */
export interface SeriesSink {
  /** Samples of a SAMPLES answer, in the order sent. */
  samples(query: number, labels: Labels, ts: number[], vs: number[]): void;
  /** One chunk of a streamed answer (`data` with its 2-byte count header). */
  chunk(query: number, labels: Labels, encoding: number, data: Buffer): void;
  /** A series' native histograms, which are not read yet. */
  histograms(query: number, labels: Labels, count: number): void;
}

/** Decodes an uncompressed ReadResponse (the SAMPLES answer). */
export function decodeReadResponse(buf: Buffer, sink: SeriesSink): void {
  ProtoFields.decode(buf, 'ReadResponse', fail, (top) => {
    let query = 0;
    while (top.next()) {
      if (top.field !== 1) {
        top.skip();
        continue;
      }
      const result = top.message('results', 'QueryResult');
      while (result.next()) {
        if (result.field !== 1) {
          result.skip();
          continue;
        }
        const series = result.message('timeseries', 'TimeSeries');
        const labels: Label[] = [];
        const ts: number[] = [];
        const vs: number[] = [];
        let histograms = 0;
        while (series.next()) {
          if (series.field === 1) labels.push(readLabelPair(series.message('labels', 'Label')));
          else if (series.field === 2) {
            const s = series.message('samples', 'Sample');
            let v = 0;
            let t = 0;
            while (s.next()) {
              if (s.field === 1) v = s.double('value');
              else if (s.field === 2) t = s.int64Number('timestamp');
              else s.skip();
            }
            ts.push(t);
            vs.push(v);
          } else if (series.field === 4) {
            histograms++;
            series.skip();
          } else series.skip();
        }
        const sorted = sortLabels(labels);
        sink.samples(query, sorted, ts, vs);
        if (histograms > 0) sink.histograms(query, sorted, histograms);
      }
      query++;
    }
  });
}

/** Decodes one ChunkedReadResponse message (a frame's payload). */
function decodeChunkedReadResponse(buf: Buffer, sink: SeriesSink): void {
  ProtoFields.decode(buf, 'ChunkedReadResponse', fail, (top) => {
    // query_index (field 2) may follow the series: read it first.
    let query = 0;
    const probe = top.rest();
    while (probe.next()) {
      if (probe.field === 2) query = probe.int64Number('query_index');
      else probe.skip();
    }
    while (top.next()) {
      if (top.field !== 1) {
        top.skip();
        continue;
      }
      const series = top.message('chunked_series', 'ChunkedSeries');
      const labels: Label[] = [];
      const chunks: Array<{ encoding: number; data: Buffer }> = [];
      while (series.next()) {
        if (series.field === 1) labels.push(readLabelPair(series.message('labels', 'Label')));
        else if (series.field === 2) {
          const c = series.message('chunks', 'Chunk');
          let encoding = 0;
          let data: Buffer = Buffer.alloc(0);
          while (c.next()) {
            if (c.field === 3) encoding = c.int32('type');
            else if (c.field === 4) data = c.bytes('data');
            else c.skip();
          }
          chunks.push({ encoding, data });
        } else series.skip();
      }
      const sorted = sortLabels(labels);
      for (const c of chunks) sink.chunk(query, sorted, c.encoding, c.data);
    }
  });
}

/** Decodes a whole STREAMED_XOR_CHUNKS body: frames of uvarint length, CRC-32C (big-endian), message. */
export function decodeChunkedStream(body: Buffer, sink: SeriesSink, maxFrameBytes: number): void {
  let p = 0;
  while (p < body.length) {
    let size = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (p >= body.length || i >= 8) throw fail(`frame length at byte ${p} is cut off or too long`);
      const b = body[p++]!;
      size += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    if (size > maxFrameBytes) throw fail(`a frame of ${size} bytes exceeds the limit of ${maxFrameBytes}`);
    if (p + 4 + size > body.length) throw fail(`frame at byte ${p} is cut off (${size} bytes announced, ${body.length - p - 4} left)`);
    const want = body.readUInt32BE(p);
    const msg = body.subarray(p + 4, p + 4 + size);
    if (crc32c(msg) !== want) throw fail(`frame at byte ${p} fails its CRC-32C check`);
    decodeChunkedReadResponse(msg, sink);
    p += 4 + size;
  }
}
