import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileRegex, goSyntaxMessage, RegexSyntaxError, regexCacheSize } from './re2.js';

/**
 * Patterns both engines define the same way: letters, `.`, small classes, groups, alternation and
 * the `* + ?` quantifiers on an atom or a group (never stacked, which RE2 refuses). Literal words
 * and `.*word.*` shapes are included so the string shortcuts are checked against the engines too.
 */
const pattern = fc.letrec<{ expr: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', 'ab'),
    tie('expr').map((e) => `(${e})`),
    tie('expr').map((e) => `(?:${e})`),
  ),
  expr: fc.oneof(
    { depthSize: 'small' },
    tie('atom'),
    fc.tuple(tie('atom'), fc.constantFrom('*', '+', '?')).map(([a, q]) => a + q),
    fc.tuple(tie('atom'), tie('atom')).map(([x, y]) => x + y),
    fc.tuple(tie('expr'), tie('expr')).map(([x, y]) => `${x}|${y}`),
    fc.constantFrom('ab|ba', '.*ab', 'ab.*', '.*ab.*', 'abc', '.*', '.+'),
  ),
})).expr;
const subject = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '\n'), maxLength: 10 });

test('anchored matching agrees with JavaScript RegExp on patterns both define', () => {
  fc.assert(
    fc.property(pattern, subject, (p, s) => {
      assert.equal(compileRegex(p, 'full').test(s), new RegExp(`^(?:${p})$`, 's').test(s), `${p} on ${JSON.stringify(s)}`);
    }),
    { numRuns: 2000 },
  );
});

test('unanchored matching agrees with JavaScript RegExp, including where the match starts', () => {
  fc.assert(
    fc.property(pattern, subject, (p, s) => {
      const js = new RegExp(p, 's').exec(s);
      const re2 = compileRegex(p, 'none');
      assert.equal(re2.test(s), js !== null, `${p} on ${JSON.stringify(s)}`);
      assert.equal(re2.exec(s)?.index, js?.index, `${p} on ${JSON.stringify(s)}`);
    }),
    { numRuns: 2000 },
  );
});

test('nested quantifiers answer in linear time where backtracking takes minutes', () => {
  const started = performance.now();
  assert.equal(compileRegex('(a+)+$', 'none').test('a'.repeat(100_000) + '!'), false);
  assert.equal(compileRegex('(.*.*)*x', 'full').test('y'.repeat(100_000)), false);
  assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
});

test('`.` matches a newline, as in Prometheus 3', () => {
  assert.ok(compileRegex('a.b', 'full').test('a\nb'));
  assert.ok(compileRegex('a.b', 'none').test('x a\nb y'));
});

test('RE2 syntax that JavaScript lacks is accepted', () => {
  assert.ok(compileRegex('(?i)prod', 'full').test('PROD'));
  assert.ok(compileRegex('x(?i:ab)', 'full').test('xAb'));
  assert.ok(compileRegex('\\Qa.b\\E', 'full').test('a.b'));
  assert.ok(!compileRegex('\\Qa.b\\E', 'full').test('axb'));
  assert.ok(compileRegex('[[:digit:]]+', 'full').test('123'));
  assert.equal(compileRegex('(?P<lat>\\d+)ms', 'none').exec('took 12ms')?.groups?.['lat'], '12');
});

test('refused patterns carry Go regexp wording', () => {
  const cases: [string, string][] = [
    ['(?=a)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`'],
    ['(?!a)', 'error parsing regexp: invalid or unsupported Perl syntax: `(?!`'],
    ['(?<=a)b', 'error parsing regexp: invalid or unsupported Perl syntax: `(?<=`'],
    ['(a)\\1', 'error parsing regexp: invalid escape sequence: `\\1`'],
    ['a(', 'error parsing regexp: missing closing ): `a(`'],
    ['[a', 'error parsing regexp: missing closing ]: `[a`'],
    ['a)', 'error parsing regexp: unexpected ): `a)`'],
    ['*', 'error parsing regexp: missing argument to repetition operator: `*`'],
    ['a**', 'error parsing regexp: invalid nested repetition operator: `**`'],
    ['a{1001}', 'error parsing regexp: invalid repeat count: `{1001}`'],
    ['[z-a]', 'error parsing regexp: invalid character class range: `z-a`'],
  ];
  for (const [p, message] of cases) {
    for (const anchoring of ['full', 'none'] as const) {
      assert.throws(
        () => compileRegex(p, anchoring),
        (e: unknown) => e instanceof RegexSyntaxError && e.message === message && e.code === 'bad_regex',
        p,
      );
    }
  }
  assert.equal(goSyntaxMessage('trailing \\'), 'error parsing regexp: trailing backslash at end of expression: ``');
});

test('literal shortcuts give the same answers as the engine', () => {
  const full: [string, string, boolean][] = [
    ['api', 'api', true],
    ['api', 'apis', false],
    ['GET|POST', 'POST', true],
    ['GET|POST', 'PUT', false],
    ['GET|', '', true],
    ['.*', '', true],
    ['.+', '', false],
    ['job-.*', 'job-1', true],
    ['job-.*', 'xjob-1', false],
    ['.*-prod', 'eu-prod', true],
    ['.*err.*', 'an error', true],
    ['.*err.*', 'fine', false],
  ];
  for (const [p, s, want] of full) assert.equal(compileRegex(p, 'full').test(s), want, `${p} on ${s}`);
  assert.ok(compileRegex('err', 'none').test('an error here'));
  assert.ok(!compileRegex('err', 'none').test('fine'));
});

test('replaceAll replaces every match left to right and terminates on empty matches', () => {
  const re = compileRegex('a(b)?', 'none');
  assert.equal(
    re.replaceAll('xabyaz', (m) => `[${m[1] ?? ''}]`),
    'x[b]y[]z',
  );
  assert.equal(
    compileRegex('x*', 'none').replaceAll('abc', () => '-'),
    '-a-b-c-',
  );
});

test('the compiled-pattern cache is shared and bounded', () => {
  assert.equal(compileRegex('cached.+', 'full'), compileRegex('cached.+', 'full'));
  assert.notEqual(compileRegex('cached.+', 'full'), compileRegex('cached.+', 'none'));
  for (let i = 0; i < 5000; i++) compileRegex(`distinct${i}.+`, 'full');
  assert.ok(regexCacheSize() <= 4096);
});
