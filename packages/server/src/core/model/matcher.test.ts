import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matcher, MatcherError } from './matcher.js';

const cases: Array<[string, string, boolean]> = [
  ['foo', 'foo', true],
  ['foo', 'foobar', false],
  ['fo+|ba.', 'bar', true],
  ['.*', 'line\nbreak', true],
  ['(?i)prod', 'PrOd', true],
  ['(?i:PRO).*', 'production', true],
  ['(?i:PRO)d', 'proD', false],
  ['x(?i)abc', 'xABC', true],
  ['X(?i)abc', 'xABC', false],
  ['[a-c]+(?i:[x-z])', 'abZ', true],
  ['(?P<n>a+)b', 'aab', true],
  ['\\Q1.5\\E', '1.5', true],
  ['\\Q1.5\\E', '105', false],
  ['a\\.b', 'a.b', true],
  ['(?s).', '\n', true],
  ['(?i)API-.*', 'api-0:8080', true],
  ['(?i)a.c', 'AxC', true],
  ['(?i)\\Q1.5\\E', '105', false],
];

for (const [re, value, want] of cases) {
  test(`=~ ${JSON.stringify(re)} on ${JSON.stringify(value)} is ${want}`, () => {
    assert.equal(new Matcher('=~', 'l', re).matches(value), want);
    assert.equal(new Matcher('!~', 'l', re).matches(value), !want);
  });
}

test('an invalid regex is a MatcherError in Go regexp wording, quoting the pattern', () => {
  assert.throws(
    () => new Matcher('=~', 'l', 'a('),
    (e: unknown) => e instanceof MatcherError && e.message === 'error parsing regexp: missing closing ): `a(`',
  );
});

test('lookaround and backreferences, which RE2 lacks, are refused', () => {
  assert.throws(() => new Matcher('=~', 'l', '(?=a)a'), { message: 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`' });
  assert.throws(() => new Matcher('=~', 'l', '(a)\\1'), { message: 'error parsing regexp: invalid escape sequence: `\\1`' });
});

test('a pattern that closes the anchoring group early is refused, as Go parses the bare pattern', () => {
  assert.throws(() => new Matcher('=~', 'l', 'a)|(b'), MatcherError);
});

test('a nested quantifier on a long non-matching value answers at once (linear time)', () => {
  const started = performance.now();
  assert.equal(new Matcher('=~', 'l', '(a+)+$').matches('a'.repeat(5000) + '!'), false);
  assert.ok(performance.now() - started < 1000);
});

test('equality matchers and empty values', () => {
  assert.ok(new Matcher('=', 'l', '').matchesEmpty());
  assert.ok(!new Matcher('!=', 'l', '').matchesEmpty());
  assert.equal(new Matcher('!=', 'l', 'x').toString(), 'l!="x"');
});
