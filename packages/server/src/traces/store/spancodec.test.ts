import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Attributes, AttributeValue, Span } from '../storage/types.js';
import { byTrace, decodeSpans, encodeSpans } from './spancodec.js';

const hex = (n: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: n, maxLength: n }).map((u) => Buffer.from(u).toString('hex'));
const value: fc.Arbitrary<AttributeValue> = fc.letrec<{ v: AttributeValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constantFrom(2 ** 53 + 2, -(2 ** 60), -0, NaN, Infinity),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 5 }), fc.constant('__proto__')), tie('v'), { maxKeys: 3, noNullPrototype: true }),
  ),
})).v;
const attrs: fc.Arbitrary<Attributes> = fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 5, noNullPrototype: true });
const time = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n });

const spanArb = (traceIds: string[], resources: Attributes[]): fc.Arbitrary<Span> =>
  fc
    .record({
      traceId: fc.constantFrom(...traceIds),
      spanId: hex(8),
      parentSpanId: fc.oneof(fc.constant(''), hex(8)),
      name: fc.string({ maxLength: 10 }),
      kind: fc.constantFrom('unspecified', 'internal', 'server', 'client', 'producer', 'consumer' as const),
      start: time,
      dur: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 10n }), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n })),
      code: fc.constantFrom('unset', 'ok', 'error' as const),
      message: fc.string({ maxLength: 6 }),
      attributes: attrs,
      resource: fc.constantFrom(...resources),
      scope: fc.record({ name: fc.string({ maxLength: 4 }), version: fc.string({ maxLength: 4 }) }),
      events: fc.array(fc.record({ dt: fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), name: fc.string({ maxLength: 4 }), attributes: attrs }), {
        maxLength: 2,
      }),
      links: fc.array(fc.record({ traceId: hex(16), spanId: hex(8), attributes: attrs }), { maxLength: 2 }),
    })
    .map((r) => {
      const end = r.start + r.dur;
      return {
        traceId: r.traceId,
        spanId: r.spanId,
        parentSpanId: r.parentSpanId,
        name: r.name,
        kind: r.kind,
        startTimeUnixNano: r.start,
        endTimeUnixNano: end < -(2n ** 63n) || end >= 2n ** 63n ? r.start : end,
        status: { code: r.code, message: r.message },
        attributes: r.attributes,
        resource: r.resource,
        scope: r.scope,
        events: r.events.map((e) => {
          const t = r.start + e.dt;
          return { timeUnixNano: t < -(2n ** 63n) || t >= 2n ** 63n ? r.start : t, name: e.name, attributes: e.attributes };
        }),
        links: r.links,
      } satisfies Span;
    });

const batch = fc
  .tuple(fc.array(hex(16), { minLength: 1, maxLength: 3 }), fc.array(attrs, { minLength: 1, maxLength: 2 }))
  .chain(([ids, res]) => fc.array(spanArb(ids, res), { maxLength: 12 }));

test('a page decodes to exactly the spans encoded, compressed or not, whatever their values', () => {
  fc.assert(
    fc.property(batch, fc.boolean(), (spans, compress) => {
      // structuredClone: plain prototypes, as decoded objects have (fast-check makes some without one).
      const sorted = byTrace(structuredClone(spans));
      const back = decodeSpans(encodeSpans(sorted, compress));
      assert.deepStrictEqual(back, sorted);
    }),
    { numRuns: 300, seed: 0x7ace },
  );
});

test('parents inside the trace are stored by index, also when the parent starts after its child', () => {
  const base = {
    traceId: 'a'.repeat(32),
    name: 'x',
    kind: 'internal',
    status: { code: 'unset', message: '' },
    attributes: {},
    resource: {},
    scope: { name: '', version: '' },
    events: [],
    links: [],
  } as const;
  const child: Span = {
    ...base,
    spanId: '2'.repeat(16),
    parentSpanId: '1'.repeat(16),
    startTimeUnixNano: 5n,
    endTimeUnixNano: 6n,
    status: { code: 'unset', message: '' },
    attributes: {},
    events: [],
    links: [],
  };
  const parent: Span = { ...child, spanId: '1'.repeat(16), parentSpanId: '', startTimeUnixNano: 7n, endTimeUnixNano: 9n };
  const back = decodeSpans(encodeSpans(byTrace([child, parent]), true));
  assert.deepEqual(back, byTrace([child, parent]));
  assert.equal(back[0]!.resource, back[1]!.resource, 'spans of one resource share the object');
  assert.throws(() => decodeSpans(Buffer.from('VTP\x01\x00\x0a')), RangeError);
  assert.throws(() => decodeSpans(Buffer.from('nope')), /bad magic/);
});
