/**
 * TraceQL evaluation against hand-computed answers over the hand-drawn traces of
 * `testkit/traces.ts` (A: a failing checkout across shop and payment; B: a healthy page in shop; C:
 * a slow payment whose root never arrived). Each expectation lists, per trace, the spans matched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureTraces } from '../../testkit/traces.js';
import { compileSearch } from './search.js';

/** The spans each trace matches, by short id (`a2`), traces without a match left out. */
function matches(query: string): Record<string, string[]> {
  const search = compileSearch(query);
  const out: Record<string, string[]> = {};
  for (const trace of fixtureTraces) {
    const ids = new Set<string>();
    for (const ss of search.evaluate(trace)) for (const i of ss.spans) ids.add(trace[i]!.spanId.replace(/^0+/, ''));
    if (ids.size > 0) out[trace[0]!.traceId[0]!] = [...ids].sort();
  }
  return out;
}

function check(cases: [string, Record<string, string[]>][]): void {
  for (const [q, want] of cases) assert.deepEqual(matches(q), want, q);
}

test('comparison operators over attributes and intrinsics', () => {
  check([
    ['{}', { a: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'], b: ['b1', 'b2', 'b3'], c: ['c1', 'c2'] }],
    ['{ resource.service.name = "shop" && status = error }', { a: ['a2', 'a3'] }],
    ['{ duration > 300ms }', { a: ['a1', 'a2', 'a3'], c: ['c1', 'c2'] }],
    ['{ duration >= 400ms && duration < 500ms }', { a: ['a2', 'a3'] }],
    ['{ duration <= 5ms }', { a: ['a6'], b: ['b3'] }],
    ['{ name = "SELECT" }', { a: ['a6'], c: ['c2'] }],
    // A missing attribute compares false, `!=` included.
    ['{ span.http.method != "GET" }', { a: ['a4', 'a5'], c: ['c1'] }],
    ['{ span.http.status_code = 200 }', { a: ['a1'], b: ['b1'] }],
    ['{ span.http.status_code >= 200.0 }', { a: ['a1'], b: ['b1'] }],
    // Mismatched types never match: an int attribute against a string.
    ['{ span.http.status_code = "200" }', {}],
    ['{ span.cache.hit = true }', { b: ['b3'] }],
    ['{ span.cache.hit }', { b: ['b3'] }],
    ['{ !span.cache.hit }', {}],
    ['{ status = ok }', { a: ['a4'] }],
    ['{ status != unset }', { a: ['a2', 'a3', 'a4'], c: ['c1'] }],
    ['{ kind = server }', { a: ['a1', 'a5'], b: ['b1'], c: ['c1'] }],
    ['{ kind = client && resource.service.name = "payment" }', { a: ['a6'], c: ['c2'] }],
    ['{ statusMessage = "pool timeout" }', { a: ['a2'] }],
    ['{ span.amount > 12 && span.amount < 13 }', { a: ['a5'] }],
    ['{ 50 < span.amount }', { c: ['c1'] }],
  ]);
});

test('regexes are anchored RE2, negations included', () => {
  check([
    ['{ name =~ "pay" }', { a: ['a5'], c: ['c1'] }],
    ['{ name =~ ".*pay" }', { a: ['a4', 'a5'], c: ['c1'] }],
    ['{ span.http.method =~ "P.*" }', { a: ['a4', 'a5'], c: ['c1'] }],
    ['{ resource.service.name = "shop" && name !~ "GET.*" }', { a: ['a2', 'a3', 'a4'], b: ['b2', 'b3'] }],
    ['{ name =~ "(?i)select" }', { a: ['a6'], c: ['c2'] }],
    ['{ span.tags =~ "[xz]" }', { a: ['a5'] }],
  ]);
});

test('nil tests presence; unscoped attributes look at the span first, then the resource', () => {
  check([
    ['{ span.cache.hit != nil }', { b: ['b3'] }],
    ['{ span.db.system = nil && resource.service.name = "payment" }', { a: ['a5'], c: ['c1'] }],
    ['{ .db.system != nil }', { a: ['a6'], c: ['c2'] }],
    // B3 carries a span attribute region "us" that hides the resource's "eu".
    ['{ .region = "eu" }', { a: ['a1', 'a2', 'a3', 'a4'], b: ['b1', 'b2'] }],
    ['{ .region = "us" }', { b: ['b3'] }],
    ['{ resource.region = "eu" && name = "cache.get" }', { b: ['b3'] }],
    ['{ span.region = "eu" }', {}],
    ['{ .service.name = "payment" && kind = server }', { a: ['a5'], c: ['c1'] }],
    ['{ span."foo bar" = "baz" }', { a: ['a6'] }],
    ['{ ."foo bar" = "baz" }', { a: ['a6'] }],
  ]);
});

test('event and link attributes and intrinsics match when one event or link does', () => {
  check([
    ['{ event:name = "exception" }', { a: ['a3'] }],
    ['{ event.exception.message =~ ".*timeout.*" }', { a: ['a3'] }],
    ['{ event.exception.type != nil && event.exception.type != "Other" }', { a: ['a3'] }],
    ['{ event:timeSinceStart > 350ms && event:timeSinceStart <= 400ms }', { a: ['a3'] }],
    ['{ event:name = nil && kind = server }', { a: ['a1', 'a5'], b: ['b1'], c: ['c1'] }],
    ['{ link:traceID = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }', { c: ['c1'] }],
    ['{ link.link.kind = "retry-of" && link:spanID = "00000000000000a4" }', { c: ['c1'] }],
    ['{ span.link.kind != nil }', {}],
  ]);
});

test('array attributes match when an element does', () => {
  check([
    ['{ span.tags = "y" }', { a: ['a5'] }],
    ['{ span.tags != "z" }', { a: ['a5'] }],
    ['{ span.tags != "x" }', {}],
  ]);
});

test('trace-level intrinsics, scoped forms and arithmetic', () => {
  check([
    ['{ rootServiceName = "shop" && kind = client }', { a: ['a4', 'a6'], b: ['b3'] }],
    ['{ trace:rootService = "payment" }', {}],
    ['{ trace:rootService = "shop" && kind = client }', { a: ['a4', 'a6'], b: ['b3'] }],
    ['{ rootName = "GET /" }', { b: ['b1', 'b2', 'b3'] }],
    ['{ trace:rootName = "GET /" && span:name = "render" }', { b: ['b2'] }],
    ['{ traceDuration > 900ms }', { c: ['c1', 'c2'] }],
    ['{ trace:duration < 100ms && kind = server }', { b: ['b1'] }],
    ['{ span:duration > 400ms }', { a: ['a1', 'a2'], c: ['c1', 'c2'] }],
    ['{ span:kind = internal && span:status = error }', { a: ['a2', 'a3'] }],
    ['{ span:id = "00000000000000a3" }', { a: ['a3'] }],
    ['{ span:parentID = "00000000000000a2" }', { a: ['a3', 'a4'] }],
    ['{ trace:id = "cccccccccccccccccccccccccccccccc" && span:statusMessage = "" }', { c: ['c1', 'c2'] }],
    ['{ instrumentation:name = "vigil-test" && name = "render" }', { b: ['b2'] }],
    ['{ childCount = 2 }', { a: ['a2'], b: ['b1'] }],
    ['{ span.amount * 2 > 100 }', { c: ['c1'] }],
    ['{ duration - 10ms > 890ms }', { c: ['c1'] }],
    ['{ span.amount / 2 + 1 = 7.25 }', { a: ['a5'] }],
    ['{ 2 ^ 3 ^ 2 = 512 && name = "render" }', { b: ['b2'] }],
    ['{ span.amount % 10 = 9 }', { c: ['c1'] }],
    ['{ -span.amount < -50 }', { c: ['c1'] }],
    ['{ (name = "render" || name = "pay") && kind = server }', { a: ['a5'], c: ['c1'] }],
  ]);
});

test('nested-set intrinsics: Tempo numbering, roots with parent -1, unconnected spans 0', () => {
  // A, depth first by start time: a1 1–12, a2 2–11, a3 3–4, a4 5–10, a5 6–9, a6 7–8. B continues: b1 13–18.
  check([
    ['{ nestedSetParent < 0 }', { a: ['a1'], b: ['b1'] }],
    ['{ nestedSetParent < 0 && true }', { a: ['a1'], b: ['b1'] }],
    ['{ nestedSetLeft = 1 && nestedSetRight = 12 }', { a: ['a1'] }],
    ['{ nestedSetParent = 5 }', { a: ['a5'] }],
    ['{ nestedSetRight - nestedSetLeft = 1 }', { a: ['a3', 'a6'], b: ['b2', 'b3'] }],
    ['{ nestedSetLeft = 0 }', { c: ['c1', 'c2'] }],
  ]);
});

test('structural operators: child, descendant, parent, ancestor, sibling', () => {
  check([
    ['{ name = "checkout" } > { }', { a: ['a3', 'a4'] }],
    ['{ resource.service.name = "shop" } >> { resource.service.name = "payment" }', { a: ['a5', 'a6'] }],
    ['{ name = "SELECT" } < { }', { a: ['a5'], c: ['c1'] }],
    ['{ name = "SELECT" } << { }', { a: ['a1', 'a2', 'a4', 'a5'], c: ['c1'] }],
    ['{ name = "db.pool.acquire" } ~ { }', { a: ['a4'] }],
    ['{ name = "render" } ~ { name = "cache.get" }', { b: ['b3'] }],
    ['{ kind = server } > { kind = internal }', { a: ['a2'], b: ['b2'] }],
    // A span is not its own sibling.
    ['{ name = "render" } ~ { name = "render" }', {}],
    ['{ status = error } >> { status = error }', { a: ['a3'] }],
  ]);
});

test('negated and union structural operators', () => {
  check([
    ['{ name = "checkout" } !> { resource.service.name = "shop" }', { a: ['a1', 'a2'], b: ['b1', 'b2', 'b3'] }],
    ['{ resource.service.name = "shop" } !>> { }', { a: ['a1'], b: ['b1'], c: ['c1', 'c2'] }],
    ['{ kind = client } !< { }', { a: ['a1', 'a3', 'a4', 'a6'], b: ['b2', 'b3'], c: ['c2'] }],
    ['{ name = "SELECT" } !<< { resource.service.name = "payment" }', { a: ['a6'], c: ['c2'] }],
    ['{ name = "render" } !~ { }', { a: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'], b: ['b1', 'b2'], c: ['c1', 'c2'] }],
    ['{ name = "checkout" } &> { }', { a: ['a2', 'a3', 'a4'] }],
    ['{ name = "SELECT" } &< { }', { a: ['a5', 'a6'], c: ['c1', 'c2'] }],
    ['{ name = "checkout" } &>> { resource.service.name = "payment" }', { a: ['a2', 'a5', 'a6'] }],
    ['{ name = "SELECT" } &<< { kind = server }', { a: ['a1', 'a5', 'a6'], c: ['c1', 'c2'] }],
    ['{ name = "render" } &~ { }', { b: ['b2', 'b3'] }],
  ]);
});

test('spanset && and || combine whole spansets; precedence and parentheses', () => {
  check([
    ['{ name = "render" } && { span.cache.hit = true }', { b: ['b2', 'b3'] }],
    ['{ name = "render" } && { name = "SELECT" }', {}],
    ['{ name = "render" } || { name = "SELECT" }', { a: ['a6'], b: ['b2'], c: ['c2'] }],
    // && binds tighter than ||, structural tighter than &&.
    ['{ name = "render" } && { name = "cache.get" } || { name = "SELECT" }', { a: ['a6'], b: ['b2', 'b3'], c: ['c2'] }],
    ['{ name = "GET /" } && { name = "checkout" } > { }', {}],
    ['{ name = "GET /checkout" } && { name = "checkout" } > { }', { a: ['a1', 'a3', 'a4'] }],
    ['({ name = "checkout" } || { name = "render" }) > { }', { a: ['a3', 'a4'] }],
    ['({ resource.service.name = "payment" } | { kind = client }) < { }', { a: ['a5'], c: ['c1'] }],
  ]);
});

test('pipelines: filters in sequence, aggregates, by, coalesce', () => {
  check([
    ['{ resource.service.name = "payment" } | { kind = client }', { a: ['a6'], c: ['c2'] }],
    ['{ } | count() > 4', { a: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'] }],
    ['{ resource.service.name = "payment" } | count() = 2', { a: ['a5', 'a6'], c: ['c1', 'c2'] }],
    // Averages: A (500+450+400+20+15+5)/6 ≈ 231.7 ms, B ≈ 10.7 ms, C 950 ms.
    ['{ } | avg(duration) > 200ms', { a: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'], c: ['c1', 'c2'] }],
    ['{ } | max(duration) < 100ms', { b: ['b1', 'b2', 'b3'] }],
    ['{ } | min(duration) >= 5ms', { a: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'], c: ['c1', 'c2'] }],
    ['{ } | sum(span.amount) > 50', { c: ['c1', 'c2'] }],
    ['{ } | sum(span.amount) = 12.5', { a: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'] }],
    ['{ } | by(resource.service.name) | count() > 3', { a: ['a1', 'a2', 'a3', 'a4'] }],
    ['{ } | by(resource.service.name) | count() = 2', { a: ['a5', 'a6'], c: ['c1', 'c2'] }],
    ['{ } | by(resource.service.name) | coalesce() | count() = 6', { a: ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'] }],
    ['{ } | count() > -1 | { status = error }', { a: ['a2', 'a3'], c: ['c1'] }],
  ]);
});

test('by() splits spansets and labels each with its value', () => {
  const search = compileSearch('{ status = error } | by(resource.service.name)');
  const [a, , c] = fixtureTraces;
  const groups = search.evaluate(a!).map((ss) => ({ spans: ss.spans.map((i) => a![i]!.name), by: ss.by }));
  assert.deepEqual(groups, [{ spans: ['checkout', 'db.pool.acquire'], by: [{ key: 'by(resource.service.name)', value: 'shop' }] }]);
  assert.deepEqual(
    search.evaluate(c!).map((ss) => ss.by),
    [[{ key: 'by(resource.service.name)', value: 'payment' }]],
  );
  const both = compileSearch('{ } | by(resource.service.name)').evaluate(a!);
  assert.deepEqual(
    both.map((ss) => [ss.by[0]!.value, ss.spans.length]),
    [
      ['shop', 4],
      ['payment', 2],
    ],
  );
});
