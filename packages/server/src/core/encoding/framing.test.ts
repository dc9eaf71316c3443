import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { labelsFrom } from '../model/labels.js';
import { Wal, WalRecordWriter } from '../../metrics/tsdb/wal.js';
import { FRAME_HEADER, frame, scanFrames, type FrameProblem } from './framing.js';

const anyType = (t: number): boolean => t === 1 || t === 2;

function collect(buf: Buffer): { records: string[]; problems: FrameProblem[] } {
  const records: string[] = [];
  const problems = scanFrames(buf, (type, b, start, end) => records.push(`${type}:${b.toString('utf8', start, end)}`), anyType);
  return { records, problems };
}

test('frames read back in order with their types', () => {
  const buf = Buffer.concat([frame(1, Buffer.from('alpha')), frame(2, Buffer.from('beta')), frame(1, Buffer.from('gamma'))]);
  assert.equal(frame(1, Buffer.from('alpha')).length, FRAME_HEADER + 5);
  assert.deepEqual(collect(buf), { records: ['1:alpha', '2:beta', '1:gamma'], problems: [] });
});

test('a damaged record in the middle costs only that record', () => {
  const a = frame(1, Buffer.from('first record'));
  const b = frame(2, Buffer.from('second record'));
  const c = frame(1, Buffer.from('third record'));
  const buf = Buffer.concat([a, b, c]);
  const at = a.length + FRAME_HEADER + 3;
  buf[at] = buf[at]! ^ 0x40;
  const { records, problems } = collect(buf);
  assert.deepEqual(records, ['1:first record', '1:third record']);
  assert.deepEqual(problems, [{ offset: a.length, end: a.length + b.length, reason: 'checksum mismatch', tail: false }]);
});

test('a torn tail is reported as reaching the end', () => {
  const a = frame(1, Buffer.from('whole'));
  const torn = frame(2, Buffer.from('cut short')).subarray(0, 12);
  const { records, problems } = collect(Buffer.concat([a, torn]));
  assert.deepEqual(records, ['1:whole']);
  assert.deepEqual(problems, [{ offset: a.length, end: a.length + torn.length, reason: 'torn record', tail: true }]);
});

test('a record the reader cannot decode is skipped like a damaged one', () => {
  const buf = Buffer.concat([frame(1, Buffer.from('ok')), frame(2, Buffer.from('bad')), frame(1, Buffer.from('ok again'))]);
  const seen: string[] = [];
  const problems = scanFrames(
    buf,
    (type, b, start, end) => {
      if (type === 2) throw new Error('unknown record type 2');
      seen.push(b.toString('utf8', start, end));
    },
    anyType,
  );
  assert.deepEqual(seen, ['ok', 'ok again']);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.reason, 'undecodable record: unknown record type 2');
});

test('resync trusts only plausible record types', () => {
  const a = frame(1, Buffer.from('one'));
  const hidden = frame(9, Buffer.from('type nine'));
  const buf = Buffer.concat([a, Buffer.from([0xff, 0xff]), hidden, frame(2, Buffer.from('two'))]);
  buf[FRAME_HEADER] = buf[FRAME_HEADER]! ^ 1;
  const { records } = collect(buf);
  // Type 9 is whole but not a type this file uses: the scan resynchronises past it.
  assert.deepEqual(records, ['2:two']);
});

test('the metrics WAL frames its records the same way', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-framing-'));
  try {
    const wal = new Wal(dir, { warn: () => {} });
    wal.replay({ series: () => {}, sample: () => {} });
    const rw = new WalRecordWriter();
    rw.begin(1);
    rw.series(7, labelsFrom({ __name__: 'up' }));
    rw.end();
    rw.begin(2);
    rw.sample(7, 1000, 1);
    rw.end();
    wal.write(rw.w.view());
    wal.close();
    const segments = fs.readdirSync(dir).filter((f) => /^\d+$/.test(f));
    const types: number[] = [];
    const problems = scanFrames(fs.readFileSync(path.join(dir, segments[0]!)), (type) => types.push(type), anyType);
    assert.deepEqual(problems, []);
    assert.deepEqual(types, [1, 2]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
