/**
 * The contract of a {@link FetchingQueryable} (a store behind the network, remote_read): what one
 * fetch answers, read back through the storage seam. The implementation's test makes a source
 * holding {@link contractSeries} and calls {@link fetchingContract}; the suite only reads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom, labelsToRecord, type Labels } from '../../core/model/labels.js';
import { Matcher, type MatchType } from '../../core/model/matcher.js';
import type { FetchingQueryable, Queryable, Selection } from '../../metrics/storage/interface.js';

/** One series the source must hold. */
export interface ContractSeries {
  readonly labels: Labels;
  readonly samples: Array<[number, number]>;
}

/** A source under test and how to release it. */
export interface FetchingSubject {
  readonly source: FetchingQueryable;
  close(): void | Promise<void>;
}

/** Ten minutes of 15 s samples from `t0` for six series over two metrics, one without an `env` label. */
export function contractSeries(t0: number): ContractSeries[] {
  const times = Array.from({ length: 41 }, (_, i) => t0 + i * 15_000);
  const make = (labels: Record<string, string>, f: (i: number) => number): ContractSeries => ({
    labels: labelsFrom(labels),
    samples: times.map((t, i) => [t, f(i)]),
  });
  return [
    make({ __name__: 'contract_requests_total', env: 'prod', pod: 'a' }, (i) => 10 * i),
    make({ __name__: 'contract_requests_total', env: 'prod', pod: 'b' }, (i) => 20 * i + 0.5),
    make({ __name__: 'contract_requests_total', env: 'dev', pod: 'a' }, (i) => i),
    make({ __name__: 'contract_requests_total', pod: 'c' }, (i) => -i),
    make({ __name__: 'contract_temperature', env: 'prod', room: 'x' }, (i) => 20 + (i % 7) / 4),
    make({ __name__: 'contract_temperature', env: 'dev', room: 'y' }, (i) => 1e-300 * i),
  ];
}

const m = (type: MatchType, name: string, value: string): Matcher => new Matcher(type, name, value);

type Read = Array<{ labels: Record<string, string>; samples: Array<[number, number]> }>;

function read(q: Queryable, sel: Selection): Read {
  const querier = q.querier(sel.start, sel.end);
  const set = querier.select({ start: sel.start, end: sel.end }, sel.matchers);
  const out: Read = [];
  while (set.next()) {
    const it = set.at().iterator();
    const samples: Array<[number, number]> = [];
    while (it.next()) samples.push([it.t(), it.v()]);
    out.push({ labels: labelsToRecord(set.at().labels), samples });
  }
  querier.close();
  return out;
}

/** What `sel` must select from `series`: matching series with their samples in the range, sorted by labels. */
function expected(series: ContractSeries[], sel: Selection): Read {
  return series
    .filter((s) => sel.matchers.every((mt) => mt.matches(s.labels.find((l) => l.name === mt.name)?.value ?? '')))
    .map((s) => ({ labels: labelsToRecord(s.labels), samples: s.samples.filter(([t]) => t >= sel.start && t <= sel.end) }))
    .filter((s) => s.samples.length > 0)
    .sort((a, b) => (JSON.stringify(labelsFrom(a.labels)) < JSON.stringify(labelsFrom(b.labels)) ? -1 : 1));
}

/** Registers the contract tests; `make` returns a source holding `contractSeries(t0)`. */
export function fetchingContract(name: string, t0: number, make: (series: ContractSeries[]) => Promise<FetchingSubject>): void {
  describe(`${name}: the fetching-store contract`, () => {
    const series = contractSeries(t0);
    let subject: FetchingSubject;
    const signal = new AbortController().signal;
    before(async () => {
      subject = await make(series);
    });
    after(async () => {
      await subject?.close();
    });

    test('each selection selects exactly the matching series, sorted, with the samples of its range', async () => {
      const selections: Selection[] = [
        { start: t0, end: t0 + 600_000, matchers: [m('=', '__name__', 'contract_requests_total')] },
        { start: t0 + 60_000, end: t0 + 120_000, matchers: [m('=', '__name__', 'contract_temperature'), m('!=', 'env', 'dev')] },
        { start: t0, end: t0 + 30_000, matchers: [m('=~', '__name__', 'contract_.*'), m('=', 'pod', 'a')] },
        { start: t0 + 300_000, end: t0 + 300_000, matchers: [m('=', '__name__', 'contract_requests_total'), m('=', 'env', '')] },
        { start: t0, end: t0 + 600_000, matchers: [m('=', '__name__', 'contract_requests_total'), m('!~', 'pod', 'a|b')] },
      ];
      const q = await subject.source.fetch(selections, signal);
      for (const sel of selections) {
        const want = expected(series, sel);
        assert.ok(want.length > 0);
        assert.deepEqual(read(q, sel), want, sel.matchers.join(','));
      }
    });

    test('a selection that was not fetched, or matches nothing, selects nothing', async () => {
      const fetched: Selection = { start: t0, end: t0 + 600_000, matchers: [m('=', '__name__', 'contract_temperature')] };
      const q = await subject.source.fetch([fetched, { ...fetched, matchers: [m('=', '__name__', 'no_such_metric')] }], signal);
      assert.deepEqual(read(q, { ...fetched, matchers: [m('=', '__name__', 'contract_requests_total')] }), []);
      assert.deepEqual(read(q, { ...fetched, matchers: [m('=', '__name__', 'no_such_metric')] }), []);
      assert.equal(read(q, fetched).length, 2);
    });

    test('label names and values come from the fetched series', async () => {
      const sel: Selection = { start: t0, end: t0 + 600_000, matchers: [m('=', '__name__', 'contract_requests_total')] };
      const q = (await subject.source.fetch([sel], signal)).querier(sel.start, sel.end);
      assert.deepEqual(q.labelNames(sel.matchers), ['__name__', 'env', 'pod']);
      assert.deepEqual(q.labelValues('pod', sel.matchers), ['a', 'b', 'c']);
      assert.deepEqual(q.labelValues('env', sel.matchers, 1), ['dev']);
      q.close();
    });

    test('a fetch whose caller has gone is refused', async () => {
      const gone = new AbortController();
      gone.abort();
      await assert.rejects(subject.source.fetch([{ start: t0, end: t0 + 600_000, matchers: [m('=', '__name__', 'contract_temperature')] }], gone.signal));
    });
  });
}
