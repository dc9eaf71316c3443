import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../core/util/crc32c.js';
import { Matcher } from '../../core/model/matcher.js';
import { ProtoFields } from '../../core/otlp/protobuf.js';
import { decodeChunkedStream, encodeReadRequest, ResponseType, type SeriesSink } from './proto.js';

const sink = (): SeriesSink & { chunks: number } => {
  const s = { chunks: 0, samples: () => {}, chunk: () => void s.chunks++, histograms: () => {} };
  return s;
};

/** One frame around `msg`: uvarint length, big-endian CRC-32C, the message. */
function frame(msg: Buffer, crc = crc32c(msg)): Buffer {
  const head = Buffer.alloc(5);
  head[0] = msg.length; // the test messages are shorter than 128 bytes
  head.writeUInt32BE(crc >>> 0, 1);
  return Buffer.concat([head, msg]);
}

// A ChunkedReadResponse with one series {a="b"} and one empty XOR chunk, query_index 0.
const label = Buffer.from([0x0a, 0x01, 0x61, 0x12, 0x01, 0x62]);
const chunk = Buffer.from([0x18, 0x01, 0x22, 0x02, 0x00, 0x00]);
const series = Buffer.concat([Buffer.from([0x0a, label.length]), label, Buffer.from([0x12, chunk.length]), chunk]);
const message = Buffer.concat([Buffer.from([0x0a, series.length]), series]);

test('frames are read one after another', () => {
  const s = sink();
  decodeChunkedStream(Buffer.concat([frame(message), frame(message)]), s, 1024);
  assert.equal(s.chunks, 2);
});

test('a damaged, cut-off or oversized frame is a clear error', () => {
  assert.throws(() => decodeChunkedStream(frame(message, 12345), sink(), 1024), /remote_read answer: frame at byte 1 fails its CRC-32C check/);
  assert.throws(() => decodeChunkedStream(frame(message).subarray(0, 10), sink(), 1024), /frame at byte 1 is cut off/);
  assert.throws(() => decodeChunkedStream(frame(message), sink(), 4), /a frame of \d+ bytes exceeds the limit of 4/);
  assert.throws(() => decodeChunkedStream(Buffer.from([0x80]), sink(), 1024), /frame length at byte 1 is cut off/);
  const bad = Buffer.from([0x0a, 0x05, 0x0a]);
  assert.throws(() => decodeChunkedStream(frame(bad), sink(), 1024), /remote_read answer: cannot read ChunkedReadResponse/);
});

test('a ReadRequest carries each query and the accepted response types, streamed first', () => {
  const req = encodeReadRequest(
    [{ start: -5, end: 1_700_000_000_000, matchers: [new Matcher('=~', '__name__', 'up|x'), new Matcher('!=', 'job', '')] }],
    [ResponseType.streamedXorChunks, ResponseType.samples],
  );
  const got: { queries: Array<{ start: number; end: number; matchers: string[] }>; accepted: number[] } = { queries: [], accepted: [] };
  ProtoFields.decode(
    req,
    'ReadRequest',
    (d) => new Error(d),
    (f) => {
      while (f.next()) {
        if (f.field === 2) for (const b of f.bytes('accepted_response_types')) got.accepted.push(b);
        else {
          const q = f.message('queries', 'Query');
          const out = { start: 0, end: 0, matchers: [] as string[] };
          while (q.next()) {
            if (q.field === 1) out.start = q.int64Number('start');
            else if (q.field === 2) out.end = q.int64Number('end');
            else {
              const m = q.message('matchers', 'LabelMatcher');
              const parts: Array<string | number> = [];
              while (m.next()) parts.push(m.field === 1 ? m.int32('type') : m.string('s'));
              out.matchers.push(parts.join(' '));
            }
          }
          got.queries.push(out);
        }
      }
    },
  );
  assert.deepEqual(got, { queries: [{ start: -5, end: 1_700_000_000_000, matchers: ['2 __name__ up|x', '1 job '] }], accepted: [1, 0] });
});
