import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatError, formatOpenMetricsFloat, parseFloatBytes } from './float.js';

function parse(s: string): number | undefined {
  const b = Buffer.from(s, 'latin1');
  return parseFloatBytes(b, 0, b.length);
}

const accepted: Array<[string, number]> = [
  ['0', 0],
  ['-0', -0],
  ['+5', 5],
  ['1.5', 1.5],
  ['1.', 1],
  ['.5', 0.5],
  ['-.5', -0.5],
  ['1e3', 1000],
  ['1E+3', 1000],
  ['2.5e-3', 0.0025],
  ['007', 7],
  ['123456789012345', 123456789012345],
  ['1234567890123456789', 1234567890123456800],
  ['1.7976931348623157e308', Number.MAX_VALUE],
  ['1e-400', 0],
  ['Inf', Infinity],
  ['+inf', Infinity],
  ['-Inf', -Infinity],
  ['INFINITY', Infinity],
  ['-Infinity', -Infinity],
  ['NaN', NaN],
  ['nan', NaN],
];

for (const [s, want] of accepted) {
  test(`float ${JSON.stringify(s)} parses to ${want}`, () => {
    assert.ok(Object.is(parse(s), want), `got ${parse(s)}`);
  });
}

const rejected: Array<[string, RegExp]> = [
  ['', /invalid syntax/],
  ['.', /invalid syntax/],
  ['-', /invalid syntax/],
  ['1e', /invalid syntax/],
  ['e5', /invalid syntax/],
  ['1e+', /invalid syntax/],
  ['1.2.3', /invalid syntax/],
  ['+NaN', /invalid syntax/],
  ['infin', /invalid syntax/],
  ['0x10', /invalid syntax/],
  ['0x1p3', /unsupported character/],
  ['1_000', /unsupported character/],
  ['1e400', /value out of range/],
  ['-1e400', /value out of range/],
  [' 1', /invalid syntax/],
  ['1 ', /invalid syntax/],
];

for (const [s, reason] of rejected) {
  test(`float ${JSON.stringify(s)} is rejected (${reason.source})`, () => {
    assert.equal(parse(s), undefined);
    const b = Buffer.from(s, 'latin1');
    assert.match(floatError(b, 0, b.length), reason);
  });
}

const formatted: Array<[number, string]> = [
  [1, '1.0'],
  [0, '0.0'],
  [-1, '-1.0'],
  [NaN, 'NaN'],
  [Infinity, '+Inf'],
  [-Infinity, '-Inf'],
  [0.5, '0.5'],
  [32, '32.0'],
  [100000, '100000.0'],
  [1e6, '1e+06'],
  [1234567, '1.234567e+06'],
  [0.0001, '0.0001'],
  [0.00001, '1e-05'],
  [2.5e-300, '2.5e-300'],
  [1e21, '1e+21'],
  [-364.5, '-364.5'],
];

for (const [f, want] of formatted) {
  test(`formatOpenMetricsFloat(${f}) is ${want}`, () => {
    assert.equal(formatOpenMetricsFloat(f), want);
  });
}
