/**
 * The search driver: Tempo's result fields per trace, `limit`, `spss`, duration and time filters,
 * selected and condition attributes, and its manners: it yields to the event loop while it works
 * and stops when the caller aborts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Span } from '../storage/types.js';
import { fixtureTraces, generateTraces, T0_MS, TRACE_A, TRACE_B, TRACE_C } from '../../testkit/traces.js';
import { MAX_OPERATORS } from './lexer.js';
import { compileSearch, ROOT_NOT_YET_RECEIVED, searchTraces } from './search.js';
import { TraceqlParseError } from './parser.js';

async function* asAsync(traces: Iterable<readonly Span[]>): AsyncGenerator<readonly Span[]> {
  for (const t of traces) yield t;
}

const T0_NS = BigInt(T0_MS) * 1_000_000n;

test('result fields: trace id, root service and name, start, duration, spansets with matched counts', async () => {
  const res = await searchTraces('{ status = error }', asAsync(fixtureTraces));
  assert.deepEqual(res.metrics, { inspectedTraces: 3, inspectedSpans: 11 });
  // Newest first: C (2 s in) before A.
  assert.deepEqual(
    res.traces.map((t) => t.traceID),
    [TRACE_C, TRACE_A],
  );
  const [c, a] = res.traces;
  assert.deepEqual(
    { ...a, spanSet: undefined, spanSets: undefined },
    {
      serviceStats: { shop: { spanCount: 4, errorCount: 2 }, payment: { spanCount: 2 } },
      traceID: TRACE_A,
      rootServiceName: 'shop',
      rootTraceName: 'GET /checkout',
      startTimeUnixNano: T0_NS.toString(),
      durationMs: 500,
      spanSet: undefined,
      spanSets: undefined,
    },
  );
  assert.deepEqual(a!.spanSets, [
    {
      matched: 2,
      spans: [
        {
          spanID: '00000000000000a2',
          name: 'checkout',
          startTimeUnixNano: (T0_NS + 10_000_000n).toString(),
          durationNanos: '450000000',
          attributes: [{ key: 'status', value: { stringValue: 'error' } }],
        },
        {
          spanID: '00000000000000a3',
          name: 'db.pool.acquire',
          startTimeUnixNano: (T0_NS + 20_000_000n).toString(),
          durationNanos: '400000000',
          attributes: [{ key: 'status', value: { stringValue: 'error' } }],
        },
      ],
    },
  ]);
  assert.deepEqual(a!.spanSet, a!.spanSets[0]);
  assert.equal(c!.rootServiceName, ROOT_NOT_YET_RECEIVED);
  assert.equal(c!.rootTraceName, ROOT_NOT_YET_RECEIVED);
  assert.equal(c!.durationMs, 1000);
  assert.deepEqual(c!.serviceStats, { payment: { spanCount: 2, errorCount: 1 } });
});

test('matched spans carry the attributes the query reads, and those select() names', async () => {
  const kinds = await searchTraces('{ span:kind = server && duration > 900ms && name != "x" }', fixtureTraces);
  // status, kind and statusMessage are returned as Tempo does; name and duration have their own fields.
  assert.deepEqual(kinds.traces[0]!.spanSets[0]!.spans[0]!.attributes, [{ key: 'kind', value: { stringValue: 'server' } }]);
  const res = await searchTraces(
    '{ resource.service.name = "payment" && span.http.method = "POST" } | select(span.amount, status, resource.deployment.environment)',
    fixtureTraces,
  );
  const byTrace = Object.fromEntries(res.traces.map((t) => [t.traceID, t.spanSets[0]!.spans[0]!.attributes]));
  assert.deepEqual(byTrace[TRACE_A], [
    { key: 'service.name', value: { stringValue: 'payment' } },
    { key: 'http.method', value: { stringValue: 'POST' } },
    { key: 'amount', value: { doubleValue: 12.5 } },
    { key: 'status', value: { stringValue: 'unset' } },
    { key: 'deployment.environment', value: { stringValue: 'prod' } },
  ]);
  assert.deepEqual(byTrace[TRACE_C]![2], { key: 'amount', value: { intValue: '99' } });
});

test('by() groups appear as spanset attributes, one spanset per group', async () => {
  const res = await searchTraces('{ } | by(resource.service.name)', fixtureTraces, { spss: 1 });
  const a = res.traces.find((t) => t.traceID === TRACE_A)!;
  assert.deepEqual(
    a.spanSets.map((s) => [s.attributes, s.matched, s.spans.length]),
    [
      [[{ key: 'by(resource.service.name)', value: { stringValue: 'shop' } }], 4, 1],
      [[{ key: 'by(resource.service.name)', value: { stringValue: 'payment' } }], 2, 1],
    ],
  );
});

test('limit, spss, minDuration and maxDuration, start and end', async () => {
  const all = await searchTraces('{}', fixtureTraces, { limit: 2, spss: 2 });
  assert.equal(all.traces.length, 2);
  assert.equal(all.metrics.inspectedTraces, 2, 'stops reading candidates at the limit');
  assert.deepEqual(
    all.traces.map((t) => [t.spanSets[0]!.spans.length, t.spanSets[0]!.matched]),
    [
      [2, 3],
      [2, 6],
    ],
  );
  const slow = await searchTraces('{}', fixtureTraces, { minDurationMs: 600 });
  assert.deepEqual(
    slow.traces.map((t) => t.traceID),
    [TRACE_C],
  );
  const fast = await searchTraces('{}', fixtureTraces, { maxDurationMs: 500 });
  assert.deepEqual(
    fast.traces.map((t) => t.traceID),
    [TRACE_B, TRACE_A],
  );
  const window = await searchTraces('{}', fixtureTraces, { startNanos: T0_NS + 900_000_000n, endNanos: T0_NS + 1_500_000_000n });
  assert.deepEqual(
    window.traces.map((t) => t.traceID),
    [TRACE_B],
  );
});

test('a metrics query is refused for search, with its position', () => {
  assert.throws(
    () => compileSearch('{} | rate()'),
    (e: unknown) => e instanceof TraceqlParseError && /cannot be used for search/.test(e.message) && e.col === 6,
  );
});

test('the search yields to the event loop about every 5 ms and honours an AbortSignal', async () => {
  // A query that matches nothing makes the driver read every candidate.
  const traces = [...generateTraces(20_000, 7)];
  // Between two ticks of a 1 ms timer, the CPU time this process spent: what the search held the
  // loop for. CPU time, not wall time, so a machine busy with other processes cannot fail the test.
  let ticks = 0;
  let maxCpuMs = 0;
  let last = process.cpuUsage();
  const timer = setInterval(() => {
    const used = process.cpuUsage(last);
    maxCpuMs = Math.max(maxCpuMs, (used.user + used.system) / 1000);
    last = process.cpuUsage();
    ticks++;
  }, 1);
  const started = performance.now();
  const res = await searchTraces('{ span.attr.1 = "nope" } >> { status = error }', traces);
  const took = performance.now() - started;
  clearInterval(timer);
  assert.equal(res.traces.length, 0);
  assert.equal(res.metrics.inspectedTraces, 20_000);
  assert.ok(took > 20, `the search took ${took.toFixed(0)} ms, too short to observe pacing`);
  assert.ok(ticks >= 3, `the timer ran ${ticks} times during ${took.toFixed(0)} ms`);
  assert.ok(maxCpuMs < 60, `the event loop was held for ${maxCpuMs.toFixed(0)} ms of CPU`);

  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('client went away')), 5);
  await assert.rejects(searchTraces('{ span.attr.1 = "nope" }', asAsync(traces), { signal: controller.signal }), /client went away/);
  const aborted = AbortSignal.abort();
  await assert.rejects(searchTraces('{}', traces, { signal: aborted }), { name: 'AbortError' });
});

test('a query at the operator limit evaluates without exhausting the stack', async () => {
  const q = '{}' + ' >> {}'.repeat(MAX_OPERATORS);
  const res = await searchTraces(q, fixtureTraces);
  // Every step needs a span one level deeper; no trace is 1000 spans deep.
  assert.equal(res.traces.length, 0);
  const wide = '{ ' + Array.from({ length: 500 }, (_, i) => `.x${i} = nil`).join(' && ') + ' }';
  assert.equal((await searchTraces(wide, fixtureTraces)).traces.length, 3);
});
