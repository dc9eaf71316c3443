import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTimestamp, TimestampError } from './timestamp.js';

test('Unix seconds, with or without a fraction, round to whole milliseconds', () => {
  assert.equal(parseTimestamp('1700000000'), 1_700_000_000_000);
  assert.equal(parseTimestamp('1700000000.1234'), 1_700_000_000_123);
  assert.equal(parseTimestamp('-5'), -5000);
  assert.equal(parseTimestamp('.5'), 500);
});

test('RFC 3339 with zone and fraction', () => {
  assert.equal(parseTimestamp('2024-01-01T00:00:00Z'), Date.UTC(2024, 0, 1));
  assert.equal(parseTimestamp('2024-01-01T01:00:00.250+01:00'), Date.UTC(2024, 0, 1) + 250);
});

test('refuses what Date.parse would guess at, and exponents', () => {
  for (const s of ['', '2024-01-01', 'Jan 1 2024', '1e9', 'now', '2024-13-45T00:00:00Z']) {
    assert.throws(
      () => parseTimestamp(s),
      (err: unknown) => err instanceof TimestampError && err.code === 'bad_data' && err.message === `cannot parse ${JSON.stringify(s)} to a valid timestamp`,
      s,
    );
  }
});
