import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributesOf, recordOf } from './attr_shapes.js';
import type { Attributes, AttributeValue } from './types.js';

function byAssignment(keys: string[], values: AttributeValue[]): Attributes {
  const out: Attributes = {};
  keys.forEach((k, i) => (out[k] = values[i]!));
  return out;
}

test('a record made from its key sequence is the record the assignments make, the first time and once compiled', () => {
  const cases: [string[], AttributeValue[]][] = [
    [[], []],
    [
      ['http.route', 'http.status_code', 'ok'],
      ['/x', 200, true],
    ],
    // A repeated key keeps its first place and its last value; integer-like keys come first.
    [
      ['b', 'a', 'b', '2', '1'],
      [1, 2, 3, 'two', 'one'],
    ],
    // Keys that would be code if they were not written as string literals.
    [
      ['"}; throw 1; //', 'a\\b', '\u2028', 'constructor', 'toString'],
      [1, 2, 3, 4, 5],
    ],
  ];
  for (let round = 0; round < 3; round++) {
    for (const [keys, values] of cases) {
      const made = attributesOf([...keys, 'left over'], [...values, 'ignored'], keys.length);
      assert.deepEqual(made, byAssignment(keys, values));
      assert.deepEqual(Object.keys(made), Object.keys(byAssignment(keys, values)));
      assert.equal(Object.getPrototypeOf(made), Object.prototype);
    }
  }
});

test('past its bounds the trie still makes the right records', () => {
  for (let i = 0; i < 3000; i++) {
    const keys = [`k${i}`, `j${i % 7}`, 'z'];
    const values: AttributeValue[] = [i, 'v', i % 2 === 0];
    assert.deepEqual(attributesOf(keys, values, 3), byAssignment(keys, values));
    assert.deepEqual(attributesOf(keys, values, 3), byAssignment(keys, values));
  }
});

test('recordOf keeps a key "__proto__" as data', () => {
  const r = recordOf(['a', '__proto__', 'b'], [1, 'p', 2], 3);
  assert.deepEqual(Object.keys(r), ['a', '__proto__', 'b']);
  assert.equal(Object.getPrototypeOf(r), Object.prototype);
  assert.equal(Object.getOwnPropertyDescriptor(r, '__proto__')?.value, 'p');
  assert.deepEqual(recordOf(['a'], [1], 1), { a: 1 });
});
