/**
 * The log storage contract: one suite of tests that every {@link LogStorage} implementation must
 * pass (the disk store fresh and reopened, the in-memory store). Implementations call
 * {@link logStorageContract} from their own test files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom, labelsToRecord, type Labels } from '../../core/model/labels.js';
import { Matcher, type MatchType } from '../../core/model/matcher.js';
import type { LogStorage } from '../../logs/storage/interface.js';
import type { LogEntry, StreamInfo } from '../../logs/storage/types.js';

/** The clock every subject runs on (ms) and the limits it must be built with. */
export interface LogContractOptions {
  readonly now: () => number;
  readonly outOfOrderWindowMs: number;
  readonly maxFutureMs: number;
  readonly retentionMs: number;
  readonly maxStreams: number;
}

/**
 * A store under test. `settle` runs after writes and may replace `store` (the reopening subject
 * stops the store and starts a new one on the same directory); `close` frees it.
 */
export interface LogContractSubject {
  store: LogStorage;
  settle?: () => void | Promise<void>;
  close: () => void | Promise<void>;
}

const NOW_MS = 1_700_000_000_000;
const T0 = BigInt(NOW_MS) * 1_000_000n - 3_600_000_000_000n;
const SEC = 1_000_000_000n;
const OPTIONS: LogContractOptions = { now: () => NOW_MS, outOfOrderWindowMs: 60_000, maxFutureMs: 600_000, retentionMs: 2 * 3_600_000, maxStreams: 20 };

const m = (type: MatchType, name: string, value: string): Matcher => new Matcher(type, name, value);
const at = (sec: number): bigint => T0 + BigInt(sec) * SEC;

function only(store: LogStorage, labels: Record<string, string>): StreamInfo {
  const found = store.selectStreams(Object.entries(labels).map(([k, v]) => m('=', k, v)));
  const exact = found.filter((s) => s.labels.length === Object.keys(labels).length);
  assert.equal(exact.length, 1, `one stream ${JSON.stringify(labels)}`);
  return exact[0]!;
}

function read(store: LogStorage, s: StreamInfo, start: bigint, end: bigint, direction: 'forward' | 'backward' = 'forward'): LogEntry[] {
  return [...store.entries(s, start, end, direction)];
}

const names = (streams: readonly { labels: Labels }[]): string[] => streams.map((s) => JSON.stringify(labelsToRecord(s.labels))).sort();

/** Registers the contract tests for a store made by `make` (which must use the given clock and limits). */
export function logStorageContract(name: string, make: (opts: LogContractOptions) => Promise<LogContractSubject>): void {
  const withStore = (title: string, fn: (s: LogContractSubject) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const subject = await make(OPTIONS);
      try {
        await fn(subject);
      } finally {
        await subject.close();
      }
    });
  };

  withStore('reads lines back in time order both ways within [start, end), and stops early', async (s) => {
    const lbl = labelsFrom({ app: 'a' });
    const first = [];
    for (let i = 0; i < 50; i += 2) first.push({ t: at(i), line: `line ${i}` });
    const second = [];
    // Odd seconds arrive late but within the window: they are placed in time order.
    for (let i = 1; i < 50; i += 2) second.push({ t: at(i), line: `line ${i}` });
    assert.equal(s.store.push([{ labels: lbl, entries: first }]).accepted, 25);
    assert.equal(s.store.push([{ labels: lbl, entries: second }]).accepted, 25);
    await s.settle?.();
    const st = only(s.store, { app: 'a' });
    assert.deepEqual(
      read(s.store, st, at(10), at(20)).map((e) => e.line),
      Array.from({ length: 10 }, (_, i) => `line ${10 + i}`),
    );
    assert.deepEqual(
      read(s.store, st, at(10), at(20), 'backward').map((e) => e.line),
      Array.from({ length: 10 }, (_, i) => `line ${19 - i}`),
    );
    assert.deepEqual(read(s.store, st, at(10), at(10)), [], 'an empty range holds nothing');
    assert.deepEqual(read(s.store, st, at(10), at(10) + 1n)[0], { t: at(10), line: 'line 10' }, 'start is inclusive, entries carry no meta key');
    const newest: string[] = [];
    for (const e of s.store.entries(st, 0n, at(1000), 'backward')) {
      newest.push(e.line);
      if (newest.length === 3) break;
    }
    assert.deepEqual(newest, ['line 49', 'line 48', 'line 47']);
  });

  withStore('keeps distinct lines with equal times in arrival order; holds many lines', async (s) => {
    const lbl = labelsFrom({ app: 'many' });
    s.store.push([
      {
        labels: lbl,
        entries: [
          { t: at(0), line: 'x' },
          { t: at(0), line: 'y' },
          { t: at(0), line: 'z' },
        ],
      },
    ]);
    const entries = [];
    for (let i = 0; i < 3000; i++) entries.push({ t: at(1) + BigInt(i) * 1000n, line: `{"i":${i},"msg":"request served","path":"/api/v1/items/${i % 17}"}` });
    assert.equal(s.store.push([{ labels: lbl, entries }]).accepted, 3000);
    await s.settle?.();
    const st = only(s.store, { app: 'many' });
    assert.deepEqual(
      read(s.store, st, at(0), at(1)).map((e) => e.line),
      ['x', 'y', 'z'],
    );
    assert.deepEqual(
      read(s.store, st, at(0), at(1), 'backward').map((e) => e.line),
      ['z', 'y', 'x'],
    );
    const all = read(s.store, st, at(1), at(100));
    assert.equal(all.length, 3000);
    for (let i = 0; i < all.length; i++) assert.equal(all[i]!.t, at(1) + BigInt(i) * 1000n);
    assert.equal(JSON.parse(all[2999]!.line).i, 2999);
  });

  withStore('refuses lines too far behind their stream or ahead of the clock, and reports them', async (s) => {
    const lbl = labelsFrom({ app: 'r' });
    const future = BigInt(NOW_MS + OPTIONS.maxFutureMs + 1000) * 1_000_000n;
    const r1 = s.store.push([
      {
        labels: lbl,
        entries: [
          { t: future, line: 'wrong clock' },
          { t: at(100), line: 'base' },
        ],
      },
    ]);
    assert.equal(r1.accepted, 1);
    assert.equal(r1.acceptedBytes, 4);
    assert.equal(r1.rejected.length, 1);
    assert.match(r1.rejected[0]!.reason, /too far in the future/);
    assert.equal(r1.rejected[0]!.t, future);
    assert.deepEqual(r1.rejected[0]!.labels, lbl);
    // The future line did not become the newest: a current line is still accepted.
    const r2 = s.store.push([
      {
        labels: lbl,
        entries: [
          { t: at(50), line: 'within window' },
          { t: at(30), line: 'too old' },
        ],
      },
    ]);
    assert.equal(r2.accepted, 1);
    assert.equal(r2.rejected.length, 1);
    assert.match(r2.rejected[0]!.reason, /too far behind/);
    // Another stream has its own window.
    assert.equal(s.store.push([{ labels: labelsFrom({ app: 'other' }), entries: [{ t: at(0), line: 'old is fine here' }] }]).accepted, 1);
    await s.settle?.();
    assert.deepEqual(
      read(s.store, only(s.store, { app: 'r' }), 0n, future + 1n).map((e) => e.line),
      ['within window', 'base'],
    );
  });

  withStore('refuses lines past retention and new streams past the stream limit', async (s) => {
    const old = s.store.push([
      {
        labels: labelsFrom({ app: 'old' }),
        entries: [
          { t: BigInt(NOW_MS - OPTIONS.retentionMs - 1000) * 1_000_000n, line: 'expired' },
          { t: at(0), line: 'kept' },
        ],
      },
    ]);
    assert.equal(old.accepted, 1);
    assert.match(old.rejected[0]!.reason, /retention/);
    for (let i = 1; i < OPTIONS.maxStreams; i++)
      assert.equal(s.store.push([{ labels: labelsFrom({ app: `s${i}` }), entries: [{ t: at(i), line: 'x' }] }]).accepted, 1);
    const over = s.store.push([
      {
        labels: labelsFrom({ app: 'one too many' }),
        entries: [
          { t: at(0), line: 'a' },
          { t: at(1), line: 'b' },
        ],
      },
    ]);
    assert.equal(over.accepted, 0);
    assert.equal(over.rejected.length, 2);
    assert.match(over.rejected[0]!.reason, /stream limit/);
    // Existing streams still take lines.
    assert.equal(s.store.push([{ labels: labelsFrom({ app: 's1' }), entries: [{ t: at(2), line: 'y' }] }]).accepted, 1);
    await s.settle?.();
    assert.equal(s.store.stats().streams, OPTIONS.maxStreams);
    assert.deepEqual(s.store.selectStreams([m('=', 'app', 'one too many')]), []);
    assert.deepEqual(
      read(s.store, only(s.store, { app: 'old' }), 0n, at(10)).map((e) => e.line),
      ['kept'],
    );
  });

  withStore('selects streams with all four matcher types and by time range', async (s) => {
    const push = (labels: Record<string, string>, sec: number): void => {
      s.store.push([{ labels: labelsFrom(labels), entries: [{ t: at(sec), line: `at ${sec}` }] }]);
    };
    push({ app: 'api', env: 'prod', dc: 'eu' }, 10);
    push({ app: 'api', env: 'dev', dc: 'us' }, 20);
    push({ app: 'api', dc: 'us' }, 30);
    push({ app: 'web', env: 'prod' }, 40);
    await s.settle?.();
    const sel = (ms: Matcher[], start?: bigint, end?: bigint): string[] => names(s.store.selectStreams(ms, start, end));
    assert.deepEqual(sel([m('=', 'app', 'api'), m('=', 'env', 'prod')]), ['{"app":"api","dc":"eu","env":"prod"}']);
    assert.deepEqual(sel([m('=', 'app', 'api'), m('!=', 'env', 'prod')]), ['{"app":"api","dc":"us","env":"dev"}', '{"app":"api","dc":"us"}']);
    assert.deepEqual(sel([m('=', 'app', 'api'), m('=', 'env', '')]), ['{"app":"api","dc":"us"}'], 'an empty value selects streams without the label');
    assert.deepEqual(sel([m('=~', 'env', 'pro.*')]), ['{"app":"api","dc":"eu","env":"prod"}', '{"app":"web","env":"prod"}']);
    assert.deepEqual(sel([m('=~', 'env', 'pro')]), [], 'regexes are anchored');
    assert.deepEqual(sel([m('=', 'app', 'api'), m('!~', 'dc', 'u.')]), ['{"app":"api","dc":"eu","env":"prod"}']);
    assert.deepEqual(sel([m('=', 'app', 'nope')]), []);
    assert.equal(sel([m('=~', 'app', '.+')]).length, 4);
    assert.deepEqual(sel([m('=~', 'app', '.+')], at(25), at(40)), ['{"app":"api","dc":"us"}'], 'only streams with lines in [start, end)');
    assert.deepEqual(sel([m('=~', 'app', '.+')], at(41), at(100)), []);
  });

  withStore('answers label names and values, filtered by matchers and time range', async (s) => {
    s.store.push([
      { labels: labelsFrom({ app: 'api', zone: '1' }), entries: [{ t: at(10), line: 'a' }] },
      { labels: labelsFrom({ app: 'web', team: 't' }), entries: [{ t: at(100), line: 'b' }] },
    ]);
    await s.settle?.();
    assert.deepEqual(s.store.labelNames(), ['app', 'team', 'zone']);
    assert.deepEqual(s.store.labelNames(at(0), at(50)), ['app', 'zone']);
    assert.deepEqual(s.store.labelNames(at(50), at(200)), ['app', 'team']);
    assert.deepEqual(s.store.labelValues('app'), ['api', 'web']);
    assert.deepEqual(s.store.labelValues('app', [m('=', 'team', 't')]), ['web']);
    assert.deepEqual(s.store.labelValues('app', [], at(0), at(50)), ['api']);
    assert.deepEqual(s.store.labelValues('missing'), []);
  });

  withStore('filter hints never change what a filtering caller sees', async (s) => {
    const lbl = labelsFrom({ app: 'h' });
    const entries = [];
    for (let i = 0; i < 400; i++) entries.push({ t: at(i), line: `{"request_id":"req-${i}","level":"${i % 10 === 0 ? 'error' : 'info'}"}` });
    s.store.push([{ labels: lbl, entries }]);
    await s.settle?.();
    const st = only(s.store, { app: 'h' });
    const filtered = (needle: string, tokens: string[], direction: 'forward' | 'backward'): string[] =>
      [...s.store.entries(st, at(0), at(400), direction, { needle, tokens })].filter((e) => e.line.includes(needle)).map((e) => e.line);
    assert.deepEqual(filtered('"req-123"', ['req', '123'], 'forward'), ['{"request_id":"req-123","level":"info"}']);
    const errors = filtered('"error"', ['error'], 'backward');
    assert.equal(errors.length, 40);
    assert.match(errors[0]!, /req-390"/);
    assert.deepEqual(filtered('"req-999"', ['req', '999'], 'forward'), []);
  });

  withStore('matchTimes gives the times (ms) and bytes of matching lines in range', async (s) => {
    const lbl = labelsFrom({ app: 'mt' });
    s.store.push([
      {
        labels: lbl,
        entries: [
          { t: at(1) + 1_500n, line: 'GET /a 200' },
          { t: at(2), line: 'GET /b 500' },
          { t: at(3), line: 'POST /c 500 é' },
          { t: at(4), line: 'GET /d 500' },
        ],
      },
    ]);
    await s.settle?.();
    const st = only(s.store, { app: 'mt' });
    const ms = (t: bigint): number => Number(t / 1000n) / 1000;
    assert.deepEqual(s.store.matchTimes(st, at(0), at(10), []), { times: [ms(at(1) + 1_500n), ms(at(2)), ms(at(3)), ms(at(4))], bytes: 10 + 10 + 14 + 10 });
    assert.deepEqual(s.store.matchTimes(st, at(0), at(4), ['500']), { times: [ms(at(2)), ms(at(3))], bytes: 24 });
    assert.deepEqual(s.store.matchTimes(st, at(0), at(10), ['500', 'GET'], ['GET']), { times: [ms(at(2)), ms(at(4))], bytes: 20 });
    assert.deepEqual(s.store.matchTimes(st, at(0), at(10), ['nowhere']), { times: [], bytes: 0 });
    assert.deepEqual(s.store.matchTimes(st, at(0), at(10), ['500'], [], false).times.length, 3);
  });

  withStore('counts streams, entries and bytes', async (s) => {
    s.store.push([
      {
        labels: labelsFrom({ app: 'a' }),
        entries: [
          { t: at(1), line: 'one' },
          { t: at(2), line: 'two' },
        ],
      },
      { labels: labelsFrom({ app: 'b' }), entries: [{ t: at(1), line: 'three' }] },
    ]);
    await s.settle?.();
    const all = s.store.stats();
    assert.equal(all.streams, 2);
    assert.equal(all.entries, 3);
    assert.ok(all.chunks >= 2, `chunks ${all.chunks}`);
    assert.ok(all.bytes >= 11, `bytes ${all.bytes}`);
    const a = s.store.stats([m('=', 'app', 'a')]);
    assert.equal(a.streams, 1);
    assert.equal(a.entries, 2);
    assert.equal(s.store.stats([m('=', 'app', 'none')]).streams, 0);
  });

  withStore('tail listeners see accepted lines until they unsubscribe', async (s) => {
    await s.settle?.();
    const seen: string[] = [];
    const lbl = labelsFrom({ app: 'tail' });
    const unsubscribe = s.store.subscribe((stream, entries) => {
      assert.deepEqual(stream.labels, lbl);
      for (const e of entries) seen.push(e.line);
    });
    s.store.push([
      {
        labels: lbl,
        entries: [
          { t: at(10), line: 'first' },
          { t: at(0) - 3_600n * SEC, line: 'refused' },
          { t: at(11), line: 'second' },
        ],
      },
    ]);
    unsubscribe();
    s.store.push([{ labels: lbl, entries: [{ t: at(12), line: 'after' }] }]);
    assert.deepEqual(seen, ['first', 'second']);
  });

  withStore('keeps structured metadata per line', async (s) => {
    const lbl = labelsFrom({ app: 'meta' });
    const traced = labelsFrom({ span_id: 's1', trace_id: 't1' });
    s.store.push([
      {
        labels: lbl,
        entries: [
          { t: at(1), line: 'with', meta: traced },
          { t: at(2), line: 'without' },
          { t: at(3), line: 'empty', meta: [] },
        ],
      },
    ]);
    await s.settle?.();
    assert.deepEqual(read(s.store, only(s.store, { app: 'meta' }), at(0), at(10)), [
      { t: at(1), line: 'with', meta: traced },
      { t: at(2), line: 'without' },
      { t: at(3), line: 'empty' },
    ]);
  });
}
