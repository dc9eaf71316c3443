/**
 * The trace storage contract: one suite every {@link TraceStorage} implementation must pass (the
 * in-memory store, the disk store fresh and reopened before each check). Implementations call
 * {@link traceStorageContract} from their own test files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TraceStorage } from '../../traces/storage/interface.js';
import type { Attributes, Span } from '../../traces/storage/types.js';

/** The clock every subject runs on (ms) and the limits it must be built with. */
export interface TraceContractOptions {
  readonly now: () => number;
  readonly maxFutureMs: number;
  readonly retentionMs: number;
  readonly maxSpansPerTrace: number;
}

/** A store under test; `settle` runs after writes and may replace `store` (reopening). */
export interface TraceContractSubject {
  store: TraceStorage;
  settle?: () => void | Promise<void>;
  close: () => void | Promise<void>;
}

const NOW_MS = 1_700_000_000_000;
const SEC = 1_000_000_000n;
/** An hour before the clock: every span of the suite starts at T0 + some seconds. */
const T0 = BigInt(NOW_MS) * 1_000_000n - 3600n * SEC;
const OPTIONS: TraceContractOptions = { now: () => NOW_MS, maxFutureMs: 600_000, retentionMs: 2 * 3_600_000, maxSpansPerTrace: 50 };

const at = (sec: number): bigint => T0 + BigInt(sec) * SEC;
const hex = (n: number, digits: number): string => n.toString(16).padStart(digits, '0');
/** Trace ids sort in the order of `n`. */
export const traceIdOf = (n: number): string => `${hex(0xabc, 16)}${hex(n, 16)}`;

const resources = new Map<string, Attributes>();
function resourceOf(service: string): Attributes {
  let r = resources.get(service);
  if (!r) resources.set(service, (r = { 'service.name': service, 'host.name': 'h1', 'process.pid': 42 }));
  return r;
}

/** A span of trace `n` (span `i`), of `service`, starting at second `startSec`. */
export function contractSpan(n: number, i: number, service: string, startSec: number, extra: Partial<Span> = {}): Span {
  return {
    traceId: traceIdOf(n),
    spanId: hex(n * 1000 + i + 1, 16),
    parentSpanId: i === 0 ? '' : hex(n * 1000 + 1, 16),
    name: i === 0 ? 'GET /checkout' : `step ${i}`,
    kind: i === 0 ? 'server' : 'internal',
    startTimeUnixNano: at(startSec) + BigInt(i) * 1_000_000n,
    endTimeUnixNano: at(startSec) + BigInt(i) * 1_000_000n + 500_000n,
    status: { code: 'unset', message: '' },
    attributes: { 'http.method': 'GET', 'span.index': i, ok: true },
    resource: resourceOf(service),
    scope: { name: 'vigil-test', version: '1.0.0' },
    events: [],
    links: [],
    ...extra,
  };
}

/** Spans compared by id, whatever order a store returns them in. */
function byId(spans: readonly Span[]): Span[] {
  return [...spans].sort((a, b) => (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0));
}

function trace(n: number, service: string, startSec: number, count = 3): Span[] {
  return Array.from({ length: count }, (_, i) => contractSpan(n, i, service, startSec));
}

/** Registers the contract tests for a store made by `make` (which must use the given clock and limits). */
export function traceStorageContract(name: string, make: (opts: TraceContractOptions) => Promise<TraceContractSubject>): void {
  const withStore = (title: string, fn: (s: TraceContractSubject) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const subject = await make(OPTIONS);
      try {
        await fn(subject);
      } finally {
        await subject.close();
      }
    });
  };

  withStore('returns every span of a trace by id, exactly as written, across appends', async (s) => {
    const rich = contractSpan(1, 1, 'shop', 10, {
      kind: 'client',
      status: { code: 'error', message: 'pool exhausted: waited 20s' },
      attributes: {
        'db.system': 'postgresql',
        'big.int': '9223372036854775807',
        ratio: 0.25,
        neg: -7,
        list: ['a', 1, false, [2.5]],
        map: { inner: { deep: 'x' }, n: 3 },
        empty: '',
        'ünïcode ✓': 'värde',
      },
      events: [{ timeUnixNano: at(10) + 7n, name: 'exception', attributes: { 'exception.type': 'TimeoutError' } }],
      links: [{ traceId: traceIdOf(2), spanId: hex(2001, 16), attributes: { 'link.kind': 'follows' } }],
    });
    const first = [contractSpan(1, 0, 'shop', 10), rich];
    const second = [contractSpan(1, 2, 'payments', 10, { endTimeUnixNano: at(30) })];
    assert.deepEqual(s.store.append(first), { accepted: 2, rejected: 0, reasons: [] });
    assert.equal(s.store.append(second).accepted, 1);
    await s.settle?.();
    assert.deepEqual(byId(s.store.trace(traceIdOf(1))), byId([...first, ...second]));
    assert.deepEqual(s.store.trace(traceIdOf(99)), []);
  });

  withStore('keeps spans of one trace appended after a reopen together with the earlier ones', async (s) => {
    s.store.append(trace(3, 'shop', 5, 2));
    await s.settle?.();
    s.store.append([contractSpan(3, 2, 'shop', 5), contractSpan(3, 3, 'payments', 6)]);
    await s.settle?.();
    assert.equal(s.store.trace(traceIdOf(3)).length, 4);
    const found = [...s.store.search({ start: at(0), end: at(100) })];
    assert.equal(found.length, 1, 'one trace, not one per part');
    assert.equal(found[0]!.length, 4);
  });

  withStore('searches newest first within the time range, with a limit, lazily', async (s) => {
    for (let n = 1; n <= 20; n++) s.store.append(trace(n, n % 2 ? 'shop' : 'payments', n * 10));
    await s.settle?.();
    const ids = (q: Parameters<TraceStorage['search']>[0]): string[] => [...s.store.search(q)].map((t) => t[0]!.traceId);
    assert.deepEqual(
      ids({ start: at(0), end: at(1000) }),
      Array.from({ length: 20 }, (_, i) => traceIdOf(20 - i)),
    );
    // [50 s, 100 s): traces 5 to 9 start inside; trace 4 (40 s, ends 40.0025 s) does not reach it.
    assert.deepEqual(ids({ start: at(50), end: at(100) }), [9, 8, 7, 6, 5].map(traceIdOf));
    assert.deepEqual(ids({ start: at(0), end: at(1000), limit: 3 }), [20, 19, 18].map(traceIdOf));
    const it = s.store.search({ start: at(0), end: at(1000) })[Symbol.iterator]();
    const firstTrace = it.next();
    assert.equal(firstTrace.done, false);
    assert.equal(firstTrace.value![0]!.traceId, traceIdOf(20));
    assert.equal(firstTrace.value!.length, 3, 'every span of the trace');
    it.return?.();
  });

  withStore('search hints: service, span name and attribute equality select exactly the traces having them', async (s) => {
    s.store.append(trace(1, 'shop', 1));
    s.store.append(trace(2, 'payments', 2));
    s.store.append([
      contractSpan(3, 0, 'shop', 3),
      contractSpan(3, 1, 'payments', 3, { name: 'charge', attributes: { 'http.status_code': 502, retry: false } }),
    ]);
    await s.settle?.();
    const ids = (q: Omit<Parameters<TraceStorage['search']>[0], 'start' | 'end'>): string[] =>
      [...s.store.search({ start: at(0), end: at(100), ...q })].map((t) => t[0]!.traceId).sort();
    assert.deepEqual(ids({ service: 'shop' }), [1, 3].map(traceIdOf));
    assert.deepEqual(ids({ service: 'payments' }), [2, 3].map(traceIdOf));
    assert.deepEqual(ids({ service: 'nope' }), []);
    assert.deepEqual(ids({ spanName: 'charge' }), [traceIdOf(3)]);
    assert.deepEqual(ids({ spanName: 'step 1' }), [1, 2].map(traceIdOf));
    assert.deepEqual(ids({ attributes: [{ key: 'http.status_code', value: 502 }] }), [traceIdOf(3)]);
    assert.deepEqual(ids({ attributes: [{ key: 'http.status_code', value: '502' }] }), [], 'types are kept apart');
    assert.deepEqual(ids({ attributes: [{ key: 'retry', value: false }] }), [traceIdOf(3)]);
    assert.deepEqual(ids({ attributes: [{ key: 'host.name', value: 'h1' }], service: 'payments' }), [2, 3].map(traceIdOf), 'resource attributes count');
    assert.deepEqual(ids({ attributes: [{ key: 'http.method', value: 'GET' }], spanName: 'charge', service: 'shop' }), [traceIdOf(3)]);
  });

  withStore('lists tag names by scope, tag values, services and operations', async (s) => {
    s.store.append(trace(1, 'shop', 1));
    s.store.append([contractSpan(2, 0, 'payments', 500, { name: 'charge', attributes: { 'http.status_code': 502, 'http.method': 'POST', nested: { a: 1 } } })]);
    await s.settle?.();
    assert.deepEqual(s.store.tagNames('span'), ['http.method', 'http.status_code', 'nested', 'ok', 'span.index']);
    assert.deepEqual(s.store.tagNames('resource'), ['host.name', 'process.pid', 'service.name']);
    assert.deepEqual(s.store.tagNames(), ['host.name', 'http.method', 'http.status_code', 'nested', 'ok', 'process.pid', 'service.name', 'span.index']);
    assert.deepEqual(s.store.tagValues('http.method'), ['GET', 'POST']);
    assert.deepEqual(s.store.tagValues('span.index', 'span'), [0, 1, 2]);
    assert.deepEqual(s.store.tagValues('span.index', 'resource'), []);
    assert.deepEqual(s.store.tagValues('nested'), [], 'only scalar values are listed');
    assert.deepEqual(s.store.tagValues('service.name', 'resource'), ['payments', 'shop']);
    assert.deepEqual(s.store.services(), ['payments', 'shop']);
    assert.deepEqual(s.store.operations('shop'), ['GET /checkout', 'step 1', 'step 2']);
    assert.deepEqual(s.store.operations('payments'), ['charge']);
    assert.deepEqual(s.store.operations('nope'), []);
    // Bounded by time: only trace 2 (at 500 s) is in [400 s, 600 s).
    assert.deepEqual(s.store.services(at(400), at(600)), ['payments']);
    assert.deepEqual(s.store.tagValues('http.method', undefined, at(400), at(600)), ['POST']);
    assert.deepEqual(s.store.tagNames('resource', at(10_000), at(20_000)), []);
  });

  withStore('refuses spans ahead of the clock, past retention and over the per-trace limit, keeping the rest', async (s) => {
    const future = contractSpan(5, 0, 'shop', 3600 + 700); // 700 s ahead of the clock, 600 s allowed
    const ancient = contractSpan(6, 0, 'shop', -3 * 3600); // ended two hours and more ago
    const fine = contractSpan(7, 0, 'shop', 100);
    const r = s.store.append([future, ancient, fine]);
    assert.equal(r.accepted, 1);
    assert.equal(r.rejected, 2);
    assert.match(r.reasons.join('\n'), /ahead of the clock/);
    assert.match(r.reasons.join('\n'), /retention/);
    const many = Array.from({ length: 45 }, (_, i) => contractSpan(8, i, 'shop', 200));
    assert.equal(s.store.append(many).accepted, 45);
    await s.settle?.();
    const more = Array.from({ length: 10 }, (_, i) => contractSpan(8, 45 + i, 'shop', 200));
    const r2 = s.store.append(more);
    assert.equal(r2.accepted, 5);
    assert.equal(r2.rejected, 5);
    assert.match(r2.reasons[0]!, /max_spans_per_trace \(50\)/);
    await s.settle?.();
    assert.equal(s.store.trace(traceIdOf(8)).length, 50);
    assert.deepEqual(s.store.trace(traceIdOf(5)), []);
    assert.equal(s.store.trace(traceIdOf(7)).length, 1);
  });
}
