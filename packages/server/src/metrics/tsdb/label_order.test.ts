import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareLabels, formatLabels, sortLabels, type Labels } from '../../core/model/labels.js';
import { Matcher } from '../../core/model/matcher.js';
import { NEVER_PAUSE } from '../../core/util/pace.js';
import { Head } from './head.js';

/** Labels of series `i`, created in an order unrelated to label order (a multiplicative shuffle). */
function seriesLabels(i: number, metric = 'm'): Labels {
  const k = (i * 7919) % 10007;
  return sortLabels([
    { name: '__name__', value: metric },
    { name: 'instance', value: `host-${k % 97}` },
    { name: 'n', value: String(k) },
  ]);
}

function addSeries(head: Head, from: number, to: number, t: number, metric?: string): void {
  const app = head.appender();
  for (let i = from; i < to; i++) app.append(0, seriesLabels(i, metric), t, i);
  app.commit();
}

/** What the head's querier selects, as formatted label sets, in the order it hands them out. */
function selected(head: Head, matchers: Matcher[], mint = 0, maxt = 1e12): string[] {
  const set = head.querier(mint, maxt).select({ start: mint, end: maxt }, matchers);
  const out: string[] = [];
  while (set.next()) out.push(formatLabels(set.at().labels));
  return out;
}

/** The same selection sorted by comparing label sets (what the order must equal). */
function expected(head: Head, matchers: Matcher[]): string[] {
  const all = [...head.allSeries()].filter((s) => matchers.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? '')));
  return all.sort((a, b) => compareLabels(a.labels, b.labels)).map((s) => formatLabels(s.labels));
}

const everything = [new Matcher('=~', '__name__', '.+')];

describe('head selections in label order (LabelOrder)', () => {
  it('sorts a first large selection by building the ranking, and later ones from it', () => {
    const head = new Head({ maxFutureMs: Infinity });
    addSeries(head, 0, 3000, 1000);
    const want = expected(head, everything);
    assert.equal(want.length, 3000);
    assert.deepEqual(selected(head, everything), want);
    assert.ok(
      [...head.allSeries()].every((s) => head.labelOrder.isRanked(s)),
      'every series ranked after the first big selection',
    );
    const some = [new Matcher('=~', 'instance', 'host-(1|2|3)[0-9]?')];
    assert.deepEqual(selected(head, some), expected(head, some));
    assert.deepEqual(selected(head, everything), want);
  });

  it('merges series created after the ranking with the ranked ones', () => {
    const head = new Head({ maxFutureMs: Infinity });
    addSeries(head, 0, 2000, 1000);
    selected(head, everything);
    // Fewer than the rebuild threshold, interleaved in label order with the ranked ones.
    addSeries(head, 2000, 2100, 2000);
    const fresh = [...head.allSeries()].filter((s) => !head.labelOrder.isRanked(s)).length;
    assert.equal(fresh, 100);
    assert.deepEqual(selected(head, everything), expected(head, everything));
    assert.equal([...head.allSeries()].filter((s) => !head.labelOrder.isRanked(s)).length, 100, 'a small unranked part does not rebuild');
    // A new metric whose series sort before and after the old ones, and only the new ones selected.
    addSeries(head, 3000, 3050, 3000, 'a_first');
    addSeries(head, 4000, 4050, 3000, 'z_last');
    assert.deepEqual(selected(head, everything), expected(head, everything));
    const newOnly = [new Matcher('=~', '__name__', 'a_first|z_last')];
    assert.deepEqual(selected(head, newOnly), expected(head, newOnly));
  });

  it('rebuilds when a selection holds many unranked series, and after series were dropped', async () => {
    const head = new Head({ maxFutureMs: Infinity, chunkRange: 10_000 });
    addSeries(head, 0, 1000, 1000);
    selected(head, everything);
    addSeries(head, 1000, 2000, 12_000);
    assert.deepEqual(selected(head, everything), expected(head, everything));
    assert.ok(
      [...head.allSeries()].every((s) => head.labelOrder.isRanked(s)),
      'the second thousand ranked by a rebuild',
    );
    // The first thousand only have samples before 10 s: truncation drops them and the ranking.
    await head.truncateBeforeSliced(10_000, NEVER_PAUSE);
    assert.equal([...head.allSeries()].length, 1000);
    assert.ok(
      [...head.allSeries()].every((s) => !head.labelOrder.isRanked(s)),
      'the ranking is forgotten once series are dropped',
    );
    assert.deepEqual(selected(head, everything), expected(head, everything));
  });

  it('builds the ranking after repeated mid-sized selections have sorted a quarter of the head', () => {
    const head = new Head({ maxFutureMs: Infinity });
    addSeries(head, 0, 3700, 1000);
    addSeries(head, 5000, 5300, 1000, 'b');
    const onlyB = [new Matcher('=', '__name__', 'b')];
    const ranked = (): number => [...head.allSeries()].filter((s) => head.labelOrder.isRanked(s)).length;
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(selected(head, onlyB), expected(head, onlyB));
      assert.equal(ranked(), 0, `not yet after selection ${i + 1} (300 of 4000 series each)`);
    }
    assert.deepEqual(selected(head, onlyB), expected(head, onlyB));
    assert.equal(ranked(), 4000, 'the fourth brings the sorted total to a quarter of the head');
  });

  it('selects only series with samples in the hinted range, in order, up to the limit', () => {
    const head = new Head({ maxFutureMs: Infinity });
    addSeries(head, 0, 600, 1000);
    addSeries(head, 600, 1200, 50_000);
    const lateOnes = Array.from({ length: 600 }, (_, i) => seriesLabels(600 + i));
    assert.deepEqual(selected(head, everything, 40_000, 60_000), lateOnes.sort(compareLabels).map(formatLabels));
    const set = head.querier(0, 1e12).select({ start: 0, end: 1e12, limit: 5 }, everything);
    const got: string[] = [];
    while (set.next()) got.push(formatLabels(set.at().labels));
    assert.deepEqual(got, expected(head, everything).slice(0, 5));
  });
});
