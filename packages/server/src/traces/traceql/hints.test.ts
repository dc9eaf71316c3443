/**
 * Store hints: what a query requires of any trace it matches. Checked for exact content on small
 * queries, and for soundness: over the test traces, every trace a query matches satisfies every
 * hint (a hint that a match violated would make a store skip a block holding a result).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fixtureTraces, generateTraces } from '../../testkit/traces.js';
import { type Condition, hintsOf } from './hints.js';
import { compileSearch } from './search.js';

test('a filter gives one group of the comparisons in its top-level && chain', () => {
  const h = hintsOf('{ resource.service.name = "shop" && status = error && span.http.status_code >= 500 }');
  const group: Condition[] = [
    { scope: 'resource', name: 'service.name', op: '=', value: 'shop' },
    { scope: 'intrinsic', name: 'status', op: '=', value: 'error' },
    { scope: 'span', name: 'http.status_code', op: '>=', value: 500 },
  ];
  assert.deepEqual(h.spans, [group]);
  assert.deepEqual(h.equals, group.slice(0, 2));
  assert.equal(h.matchesAll, false);
});

test('literal on the left is flipped; unscoped, regex and nil conditions', () => {
  assert.deepEqual(hintsOf('{ 5 < span.x && .y =~ "a.*" && .z = nil && .w != nil }').spans, [
    [
      { scope: 'span', name: 'x', op: '>', value: 5 },
      { scope: 'any', name: 'y', op: '=~', value: 'a.*' },
    ],
  ]);
});

test('spanset && and structural operators need both sides, negations the right, || neither', () => {
  assert.deepEqual(hintsOf('{ name = "a" } && { name = "b" }').spans, [
    [{ scope: 'intrinsic', name: 'name', op: '=', value: 'a' }],
    [{ scope: 'intrinsic', name: 'name', op: '=', value: 'b' }],
  ]);
  assert.equal(hintsOf('{ name = "a" } >> { kind = client }').spans.length, 2);
  assert.equal(hintsOf('{ name = "a" } &> { kind = client }').spans.length, 2);
  assert.deepEqual(hintsOf('{ name = "a" } !> { kind = client }').spans, [[{ scope: 'intrinsic', name: 'kind', op: '=', value: 'client' }]]);
  const or = hintsOf('{ name = "a" } || { name = "b" }');
  assert.deepEqual(or.spans, []);
  assert.equal(or.matchesAll, false);
  assert.deepEqual(hintsOf('{ name = "a" || kind = server }').spans, []);
  assert.deepEqual(hintsOf('{ !(name = "a") }').spans, []);
});

test('durations, the time range, pipelines and {}', () => {
  const h = hintsOf('{ duration > 2s } | { traceDuration >= 3s && traceDuration < 10s } | count() > 1', { startNanos: 10n, endNanos: 20n });
  assert.equal(h.minSpanDurationNanos, 2e9);
  assert.equal(h.minTraceDurationNanos, 3e9);
  assert.equal(h.maxTraceDurationNanos, 10e9);
  assert.equal(h.startNanos, 10n);
  assert.equal(h.endNanos, 20n);
  const all = hintsOf('{}');
  assert.deepEqual([all.spans, all.equals, all.matchesAll], [[], [], true]);
  assert.equal(hintsOf('{} | count() > 3').matchesAll, false);
  assert.equal(hintsOf('{ .a = 1 } with(most_recent=true)').mostRecent, true);
  assert.equal(hintsOf('{ .a = 1 }').mostRecent, false);
  assert.equal(hintsOf('{ resource.service.name = "x" } | rate() by (name)').equals.length, 1);
});

/** The condition as a TraceQL filter, to test it with the evaluator itself. */
function asFilter(group: readonly Condition[]): string {
  const ref = (c: Condition): string => (c.scope === 'intrinsic' ? c.name : c.scope === 'any' ? `."${c.name}"` : `${c.scope}."${c.name}"`);
  const lit = (c: Condition): string => {
    if (typeof c.value === 'string') return c.scope === 'intrinsic' && (c.name === 'status' || c.name === 'kind') ? c.value : JSON.stringify(c.value);
    if (typeof c.value === 'number' && c.scope === 'intrinsic' && /duration/i.test(c.name)) return `${c.value}ns`;
    return String(c.value);
  };
  return `{ ${group.map((c) => `${ref(c)} ${c.op} ${lit(c)}`).join(' && ')} }`;
}

test('hints are sound: every trace a query matches satisfies each of its groups', () => {
  const queries = [
    '{ resource.service.name = "shop" && status = error }',
    '{ name = "checkout" } > { kind = internal }',
    '{ resource.service.name = "shop" } >> { resource.service.name = "payment" && span.http.method = "POST" }',
    '{ name = "SELECT" } &<< { kind = server }',
    '{ name = "render" } && { span.cache.hit = true }',
    '{ name = "checkout" } !> { resource.service.name = "shop" && kind = internal }',
    '{ duration > 300ms && span.amount >= 99 }',
    '{ 400ms <= duration && .region =~ "e.*" }',
    '({ resource.service.name = "payment" } | { kind = client }) < { status = error }',
    '{ traceDuration > 900ms } | by(resource.service.name) | count() = 2',
  ];
  for (const q of queries) {
    const hints = hintsOf(q);
    assert.ok(hints.spans.length > 0, q);
    const matched = fixtureTraces.filter((t) => compileSearch(q).evaluate(t).length > 0);
    assert.ok(matched.length > 0, `${q} matches a test trace, so the check means something`);
    for (const trace of matched) {
      for (const group of hints.spans) {
        assert.ok(compileSearch(asFilter(group)).evaluate(trace).length > 0, `${q}: ${asFilter(group)} fails on trace ${trace[0]!.traceId}`);
      }
      if (hints.minSpanDurationNanos !== undefined) {
        assert.ok(
          trace.some((s) => Number(s.endTimeUnixNano - s.startTimeUnixNano) >= hints.minSpanDurationNanos!),
          q,
        );
      }
    }
  }
});

test('hints are sound on generated queries over generated traces', () => {
  const traces = [...fixtureTraces, ...generateTraces(60, 11)];
  const cond = fc.oneof(
    fc
      .constantFrom('resource.service.name', '.service.name', 'name', 'span.attr.1', 'span.attr.3')
      .chain((f) =>
        fc.tuple(fc.constant(f), fc.constantFrom('=', '!=', '=~'), fc.constantFrom('"shop"', '"payment"', '"op-1"', '"v3"', '"GET /checkout"', '"op-.*"')),
      ),
    fc.tuple(
      fc.constantFrom('duration', 'traceDuration', 'span.attr.0'),
      fc.constantFrom('>', '>=', '<', '<=', '='),
      fc.constantFrom('10ms', '100ms', '50', '0'),
    ),
    fc.tuple(fc.constant('status'), fc.constantFrom('=', '!='), fc.constantFrom('error', 'unset', 'ok')),
    fc.tuple(fc.constant('kind'), fc.constantFrom('=', '!='), fc.constantFrom('server', 'internal', 'client')),
  );
  const filter = fc.array(cond, { minLength: 0, maxLength: 3 }).map((cs) => `{ ${cs.map(([f, op, v]) => `${f} ${op} ${v}`).join(' && ')} }`);
  const query = fc.letrec<{ q: string }>((tie) => ({
    q: fc.oneof(
      { depthSize: 'small', maxDepth: 3 },
      filter,
      fc.tuple(tie('q'), fc.constantFrom('&&', '||', '>', '>>', '<', '<<', '~', '!>', '&>', '&<<'), tie('q')).map(([a, op, b]) => `(${a}) ${op} (${b})`),
      fc.tuple(tie('q'), filter).map(([a, b]) => `${a} | ${b}`),
    ),
  })).q;
  let matched = 0;
  fc.assert(
    fc.property(query, (q) => {
      const hints = hintsOf(q);
      const search = compileSearch(q);
      for (const trace of traces) {
        if (search.evaluate(trace).length === 0) continue;
        for (const group of hints.spans) {
          if (compileSearch(asFilter(group)).evaluate(trace).length === 0) throw new Error(`${q}: ${asFilter(group)} fails on a matching trace`);
        }
        const longest = Math.max(...trace.map((s) => Number(s.endTimeUnixNano - s.startTimeUnixNano)));
        if (hints.minSpanDurationNanos !== undefined && longest < hints.minSpanDurationNanos) throw new Error(`${q}: minSpanDurationNanos`);
        const first = trace.reduce((m, s) => (s.startTimeUnixNano < m ? s.startTimeUnixNano : m), trace[0]!.startTimeUnixNano);
        const end = trace.reduce((m, s) => (s.endTimeUnixNano > m ? s.endTimeUnixNano : m), 0n);
        const traceNanos = Number(end - first);
        if (hints.minTraceDurationNanos !== undefined && traceNanos < hints.minTraceDurationNanos) throw new Error(`${q}: minTraceDurationNanos`);
        if (hints.maxTraceDurationNanos !== undefined && traceNanos > hints.maxTraceDurationNanos) throw new Error(`${q}: maxTraceDurationNanos`);
        matched++;
      }
    }),
    { seed: 0x7ace, numRuns: 300 },
  );
  assert.ok(matched > 100, `only ${matched} matching (query, trace) pairs were checked`);
});
