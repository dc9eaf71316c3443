import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { labelsFrom, labelsToRecord } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { tempDir } from '../../testkit/helpers.js';
import { ExemplarStorage, type ExemplarInput } from './storage.js';

const all = [[new Matcher('=~', '__name__', '.+')]];

function ex(series: string, trace: string, ts: number, value = 1): ExemplarInput {
  return { seriesLabels: labelsFrom({ __name__: 'latency_bucket', le: series }), labels: labelsFrom({ trace_id: trace }), value, ts };
}

/** Every stored exemplar as `le:trace_id@ts`, series in the order the storage gives them. */
function dump(s: ExemplarStorage, start = -Infinity, end = Infinity, sets = all): string[] {
  return s
    .select(start, end, sets)
    .flatMap((r) => r.exemplars.map((e) => `${labelsToRecord(r.seriesLabels)['le']}:${labelsToRecord(e.labels)['trace_id']}@${e.ts}`));
}

test('the buffer is bounded: the oldest exemplar of all series goes first, and a series whose last one went is gone', () => {
  const s = new ExemplarStorage({ maxExemplars: 3 });
  s.append([ex('0.1', 'a', 1000), ex('0.5', 'b', 1000)]);
  s.append([ex('0.1', 'c', 2000)]);
  assert.equal(s.size, 3);
  assert.equal(s.seriesCount, 2);
  s.append([ex('0.1', 'd', 3000)]);
  assert.deepEqual(dump(s).sort(), ['0.1:c@2000', '0.1:d@3000', '0.5:b@1000']);
  s.append([ex('0.1', 'e', 4000)]);
  // b (series 0.5's only exemplar) was the oldest: its series is no longer listed.
  assert.deepEqual(dump(s), ['0.1:c@2000', '0.1:d@3000', '0.1:e@4000']);
  assert.equal(s.seriesCount, 1);
  assert.equal(s.size, 3);
  assert.equal(s.stats.appended, 5);
});

test('duplicates are skipped, older or equal timestamps refused per series, long label sets dropped (128 UTF-8 characters)', () => {
  const s = new ExemplarStorage({ maxExemplars: 100 });
  let r = s.append([ex('1', 'a', 1000), ex('1', 'a', 1000), ex('2', 'x', 500)]);
  assert.deepEqual(r, { appended: 2, duplicate: 1, outOfOrder: 0, tooLong: 0 });
  r = s.append([ex('1', 'a', 1000)]);
  assert.deepEqual(r, { appended: 0, duplicate: 1, outOfOrder: 0, tooLong: 0 });
  // Same time, other trace: out of order; earlier: out of order; series 2 has its own order.
  r = s.append([ex('1', 'b', 1000), ex('1', 'c', 900), ex('2', 'y', 600)]);
  assert.deepEqual(r, { appended: 1, duplicate: 0, outOfOrder: 2, tooLong: 0 });
  assert.equal(s.stats.outOfOrder, 2);
  // `trace_id` is 8 characters; 120 more make 128 exactly. Two-byte characters count once each.
  const ok = { seriesLabels: labelsFrom({ __name__: 'm' }), labels: labelsFrom({ trace_id: 'é'.repeat(120) }), value: 1, ts: 1 };
  const long = { seriesLabels: labelsFrom({ __name__: 'm' }), labels: labelsFrom({ trace_id: 'é'.repeat(121) }), value: 1, ts: 2 };
  r = s.append([ok, long]);
  assert.deepEqual(r, { appended: 1, duplicate: 0, outOfOrder: 0, tooLong: 1 });
  assert.equal(s.stats.tooLong, 1);
  // Astral characters (two UTF-16 units) also count once.
  r = s.append([{ ...ok, labels: labelsFrom({ trace_id: '😀'.repeat(120) }), ts: 3 }]);
  assert.equal(r.appended, 1);
});

test('select: matcher sets are ORed, matchers within a set ANDed, the time range is inclusive', () => {
  const s = new ExemplarStorage({ maxExemplars: 100 });
  s.append([ex('0.1', 'a', 1000), ex('0.1', 'b', 2000), ex('0.1', 'c', 3000), ex('1', 'd', 2000)]);
  s.append([{ seriesLabels: labelsFrom({ __name__: 'other', job: 'x' }), labels: labelsFrom({ trace_id: 'o' }), value: 2, ts: 2500 }]);
  assert.deepEqual(dump(s, 2000, 3000, [[new Matcher('=', 'le', '0.1')]]), ['0.1:b@2000', '0.1:c@3000']);
  assert.deepEqual(dump(s, 0, 10_000, [[new Matcher('=', '__name__', 'latency_bucket'), new Matcher('!=', 'le', '0.1')]]), ['1:d@2000']);
  const two = s.select(0, 10_000, [[new Matcher('=', 'le', '1')], [new Matcher('=', 'job', 'x')]]);
  assert.deepEqual(two.map((r) => labelsToRecord(r.seriesLabels)['__name__']).sort(), ['latency_bucket', 'other']);
  assert.deepEqual(dump(s, 3001, 10_000, [[new Matcher('=', 'le', '0.1')]]), []);
});

test('max_exemplars 0 disables storage: nothing is kept and no log is written', (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const s = new ExemplarStorage({ maxExemplars: 0, dir: tmp.dir });
  s.start();
  assert.equal(s.append([ex('1', 'a', 1)]).appended, 0);
  assert.equal(s.size, 0);
  s.stop();
  assert.equal(fs.existsSync(path.join(tmp.dir, 'exemplars.log')), false);
});

test('a restart keeps the exemplars; a smaller max_exemplars keeps the newest ones', (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  let s = new ExemplarStorage({ maxExemplars: 50, dir: tmp.dir });
  s.start();
  for (let i = 0; i < 20; i++) s.append([ex(String(i % 3), `t${i}`, 1000 + i)]);
  const before = dump(s);
  s.stop();
  s = new ExemplarStorage({ maxExemplars: 50, dir: tmp.dir });
  s.start();
  assert.deepEqual(dump(s), before);
  // Replayed exemplars are refused again as duplicates, not stored twice.
  assert.equal(s.append([ex('0', 't18', 1018)]).duplicate, 1);
  s.stop();
  s = new ExemplarStorage({ maxExemplars: 5, dir: tmp.dir });
  s.start();
  assert.deepEqual(
    dump(s, -Infinity, Infinity)
      .map((x) => x.split('@')[1])
      .sort(),
    ['1015', '1016', '1017', '1018', '1019'],
  );
  s.stop();
});

test('the log is rewritten once it holds more than twice the buffer, and stays bounded', (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  let s = new ExemplarStorage({ maxExemplars: 10, dir: tmp.dir });
  s.start();
  const file = path.join(tmp.dir, 'exemplars.log');
  let largest = 0;
  for (let i = 0; i < 500; i++) {
    s.append([ex('1', `trace-${i}`, 1000 + i)]);
    largest = Math.max(largest, fs.statSync(file).size);
  }
  const one = fs.statSync(file).size / s.size;
  // At most about 2 × 10 single-exemplar records (plus the rewritten batch), never 500.
  assert.ok(largest < one * 25, `log grew to ${largest} bytes (${one} bytes an exemplar)`);
  s.stop();
  s = new ExemplarStorage({ maxExemplars: 10, dir: tmp.dir });
  s.start();
  assert.deepEqual(
    dump(s).map((x) => x.split('@')[1]),
    Array.from({ length: 10 }, (_, k) => String(1490 + k)),
  );
  s.stop();
});

test('a damaged record is skipped (only it), a torn tail is cut and later appends are read back', (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const file = path.join(tmp.dir, 'exemplars.log');
  let s = new ExemplarStorage({ maxExemplars: 100, dir: tmp.dir });
  s.start();
  s.append([ex('1', 'first', 1000)]);
  const first = fs.statSync(file).size;
  s.append([ex('1', 'second', 2000)]);
  s.append([ex('1', 'third', 3000)]);
  s.stop();
  const data = fs.readFileSync(file);
  data[first + 12] = data[first + 12]! ^ 0xff;
  fs.writeFileSync(file, Buffer.concat([data, Buffer.from([1, 200, 0, 0, 0, 1, 2])]));
  s = new ExemplarStorage({ maxExemplars: 100, dir: tmp.dir });
  s.start();
  assert.deepEqual(dump(s), ['1:first@1000', '1:third@3000']);
  s.append([ex('1', 'fourth', 4000)]);
  s.stop();
  s = new ExemplarStorage({ maxExemplars: 100, dir: tmp.dir });
  s.start();
  assert.deepEqual(dump(s), ['1:first@1000', '1:third@3000', '1:fourth@4000']);
  s.stop();
});

test('a failed log write stores nothing of the batch and says why', (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const s = new ExemplarStorage({ maxExemplars: 100, dir: tmp.dir });
  s.start();
  s.append([ex('1', 'kept', 1000)]);
  // The log's descriptor closed underneath: the write fails with EBADF, as an I/O error would.
  const fd = (s as unknown as { fd: number }).fd;
  fs.closeSync(fd);
  assert.throws(
    () => s.append([ex('1', 'lost', 2000)]),
    (err: Error & { code?: string }) => err.code === 'closed' && /exemplar log write failed/.test(err.message),
  );
  assert.deepEqual(dump(s), ['1:kept@1000']);
  (s as unknown as { fd: number }).fd = -1;
});

test('100,000 exemplars fit in 20 MB (issue 14), measured after GC in a child process', () => {
  const bench = fileURLToPath(new URL('../../testkit/bench/exemplar_memory.js', import.meta.url));
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', bench], { encoding: 'utf8' })) as { exemplars: number; bytes: number; mib: number };
  assert.equal(out.exemplars, 100_000);
  assert.ok(out.bytes <= 20 * 1024 * 1024, `${out.mib} MiB for 100,000 exemplars`);
});
