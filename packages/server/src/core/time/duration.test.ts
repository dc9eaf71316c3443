import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VigilError } from '../errors.js';
import { DurationError, formatDuration, parseDuration, parseSecondsOrDuration } from './duration.js';

describe('parseDuration / formatDuration', () => {
  const good: ReadonlyArray<readonly [string, number, string]> = [
    ['0', 0, '0s'],
    ['0s', 0, '0s'],
    ['1ms', 1, '1ms'],
    ['5m', 300000, '5m'],
    ['1h30m', 5400000, '1h30m'],
    ['90m', 5400000, '1h30m'],
    ['1d', 86400000, '1d'],
    ['1w', 604800000, '1w'],
    ['8d', 691200000, '8d'],
    ['14d', 1209600000, '2w'],
    ['1y', 31536000000, '1y'],
    ['1y1d', 31622400000, '366d'],
    ['1m30s500ms', 90500, '1m30s500ms'],
  ];
  for (const [s, ms, canonical] of good) {
    it(s, () => {
      assert.equal(parseDuration(s), ms);
      assert.equal(formatDuration(ms), canonical);
    });
  }
  it('formats negative durations', () => assert.equal(formatDuration(-90000), '-1m30s'));

  const bad: ReadonlyArray<readonly [string, string]> = [
    ['', 'empty duration string'],
    ['5', 'not a valid duration string: "5"'],
    ['m', 'not a valid duration string: "m"'],
    ['1.5m', 'unknown unit "." in duration "1.5m"'],
    ['5m1h', 'not a valid duration string: "5m1h"'],
    ['5m1m', 'not a valid duration string: "5m1m"'],
    ['5y1hs', 'unknown unit "hs" in duration "5y1hs"'],
    ['-5m', 'not a valid duration string: "-5m"'],
    ['300000y', 'duration out of range'],
  ];
  for (const [s, message] of bad) {
    it(`rejects ${JSON.stringify(s)}`, () => assert.throws(() => parseDuration(s), { name: 'DurationError', message }));
  }
});

describe('parseSecondsOrDuration', () => {
  const good: ReadonlyArray<readonly [string, number]> = [
    ['30', 30_000],
    ['0.5', 500],
    ['.25', 250],
    ['1e3', 1_000_000],
    ['+2', 2000],
    ['0.0004', 0],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
  ];
  for (const [s, ms] of good) it(s, () => assert.equal(parseSecondsOrDuration(s), ms));

  it('rejects what is neither, with the duration message', () => {
    assert.throws(() => parseSecondsOrDuration('abc'), { name: 'DurationError', message: 'not a valid duration string: "abc"' });
    assert.throws(() => parseSecondsOrDuration('1e400'), { name: 'DurationError' });
  });

  it('raises a VigilError with the bad_data code, which the APIs map to 400', () => {
    const err = (() => {
      try {
        parseDuration('x');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof DurationError);
    assert.ok(err instanceof VigilError);
    assert.equal(err.code, 'bad_data');
  });
});
