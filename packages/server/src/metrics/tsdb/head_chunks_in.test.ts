import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelsFrom } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { Head } from './head.js';

/**
 * A series of many small closed chunks, with gaps in time, read back over every window: the head
 * finds a window's closed chunks by scanning from the newest, which must find the same chunks as
 * a scan of them all, and select the series exactly when one of its chunks overlaps the window.
 */
test('head: windows over many closed chunks select exactly the samples inside them', () => {
  const head = new Head({ samplesPerChunk: 4 });
  const labels = labelsFrom({ __name__: 'm', job: 'j' });
  // Chunks of 4 samples 10 apart, with holes between some chunks and inside one; the last chunk
  // (3 samples) stays active.
  const chunks = [
    [10, 20, 30, 40],
    [50, 60, 70, 80],
    [150, 160, 170, 180],
    [190, 200, 250, 260],
    [270, 280, 290, 300],
    [400, 410, 420],
  ];
  const written = chunks.flat();
  let ref = 0;
  for (const t of written) {
    const a = head.appender();
    ref = a.append(ref, labels, t, t / 10);
    a.commit();
  }
  const matchers = [new Matcher('=', '__name__', 'm')];
  for (let mint = 0; mint <= 430; mint += 5) {
    for (let maxt = mint; maxt <= 440; maxt += 15) {
      const q = head.querier(mint, maxt);
      const set = q.select({ start: mint, end: maxt }, matchers);
      const got: number[] = [];
      let series = 0;
      while (set.next()) {
        series++;
        const it = set.at().iterator();
        while (it.next()) got.push(it.t());
      }
      q.close();
      const want = written.filter((t) => t >= mint && t <= maxt);
      assert.deepEqual(got, want, `[${mint}, ${maxt}]`);
      // A series is selected when a chunk of it overlaps the window, samples in the window or not.
      const overlaps = chunks.some((c) => c[0]! <= maxt && c[c.length - 1]! >= mint);
      assert.equal(series, overlaps ? 1 : 0, `series selected for [${mint}, ${maxt}]`);
    }
  }
});
