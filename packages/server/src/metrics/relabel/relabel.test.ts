import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFrom, labelsToRecord, type Labels } from '../../core/model/labels.js';
import { compileRelabel, hashmod, parseRelabelConfigs, relabel, RelabelConfigError } from './relabel.js';

type Raw = Record<string, unknown>;

const cases: Array<{ name: string; input: Record<string, string>; rules: Raw[]; want: Record<string, string> | undefined }> = [
  {
    name: 'replace with a capture group used twice',
    input: { a: 'foo', b: 'bar' },
    rules: [{ source_labels: ['a'], regex: 'f(.*)', target_label: 'd', replacement: 'ch${1}-ch${1}' }],
    want: { a: 'foo', b: 'bar', d: 'choo-choo' },
  },
  {
    name: 'replace joins several sources with the separator, and rules chain',
    input: { a: 'foo', b: 'bar', c: 'baz' },
    rules: [
      { source_labels: ['a', 'b'], regex: 'f(.*);(.*)r', target_label: 'a', replacement: 'b${1}${2}m' },
      { source_labels: ['c', 'a'], regex: '(b).*b(.*)ba(.*)', target_label: 'd', replacement: '$1$2$2$3', separator: '' },
    ],
    want: { a: 'boobam', b: 'bar', c: 'baz', d: 'boooom' },
  },
  {
    name: 'replace without a match changes nothing (regex is anchored)',
    input: { a: 'foo' },
    rules: [{ source_labels: ['a'], regex: 'o', target_label: 'b', replacement: 'x' }],
    want: { a: 'foo' },
  },
  {
    name: 'replace with the default regex copies a label',
    input: { a: 'foo' },
    rules: [{ source_labels: ['a'], target_label: 'b' }],
    want: { a: 'foo', b: 'foo' },
  },
  {
    name: 'replace sets a constant label when there are no sources',
    input: { a: 'foo' },
    rules: [{ target_label: 'env', replacement: 'prod' }],
    want: { a: 'foo', env: 'prod' },
  },
  {
    name: 'replace with an empty result deletes the target',
    input: { a: 'foo', b: 'bar' },
    rules: [{ source_labels: ['a'], regex: 'f(x?)oo', target_label: 'b' }],
    want: { a: 'foo' },
  },
  {
    name: 'replace from a missing source matches the empty string',
    input: { a: 'foo' },
    rules: [{ source_labels: ['missing'], regex: '', target_label: 'b', replacement: 'was-empty' }],
    want: { a: 'foo', b: 'was-empty' },
  },
  {
    name: 'replace with templated target; an empty value deletes nothing that is absent',
    input: { a: 'foo' },
    rules: [{ source_labels: ['a'], regex: '(f).*', target_label: '$1', replacement: '$2' }],
    want: { a: 'foo' },
  },
  {
    name: 'replace with templated target name',
    input: { a: 'some-name-0', b: 'x' },
    rules: [{ source_labels: ['a'], regex: 'some-([^-]+)-([^,]+)', target_label: '${1}_${2}', replacement: '$b-$1' }],
    want: { a: 'some-name-0', b: 'x', name_0: '-name' },
  },
  {
    name: 'replace skips a target that expands to an invalid name',
    input: { a: 'some-name-value' },
    rules: [{ source_labels: ['a'], regex: '(.*)', target_label: '${1}', replacement: 'x' }],
    want: { a: 'some-name-value' },
  },
  {
    name: '$$ is a literal dollar, $1x names group "1x" (empty), ${1}x is group 1 then x',
    input: { a: 'foo' },
    rules: [{ source_labels: ['a'], regex: '(f)(oo)', target_label: 'b', replacement: '$$1|$1x|${1}x|${2}|$9|$' }],
    want: { a: 'foo', b: '$1||fx|oo||$' },
  },
  {
    name: 'named groups, written (?P<name>…) as RE2 does',
    input: { a: 'foo:9090' },
    rules: [{ source_labels: ['a'], regex: '(?P<host>[^:]+):(?P<port>\\d+)', target_label: 'addr', replacement: '${port}@$host' }],
    want: { a: 'foo:9090', addr: '9090@foo' },
  },
  {
    name: '. matches newlines, as in Prometheus 3',
    input: { a: 'foo\nbar' },
    rules: [{ source_labels: ['a'], regex: 'foo.bar', action: 'keep' }],
    want: { a: 'foo\nbar' },
  },
  {
    name: 'case-insensitive flag group',
    input: { a: 'PROD' },
    rules: [{ source_labels: ['a'], regex: '(?i)prod', target_label: 'b', replacement: 'yes' }],
    want: { a: 'PROD', b: 'yes' },
  },
  { name: 'drop on match', input: { a: 'foo' }, rules: [{ source_labels: ['a'], regex: '.*o.*', action: 'drop' }], want: undefined },
  { name: 'drop without match keeps', input: { a: 'foo' }, rules: [{ source_labels: ['a'], regex: 'f', action: 'drop' }], want: { a: 'foo' } },
  { name: 'keep without match drops', input: { a: 'foo' }, rules: [{ source_labels: ['a'], regex: 'f', action: 'keep' }], want: undefined },
  { name: 'keep with match keeps', input: { a: 'foo' }, rules: [{ source_labels: ['a'], regex: 'f.*', action: 'keep' }], want: { a: 'foo' } },
  {
    name: 'keep on a missing label with a regex matching empty keeps',
    input: { a: 'foo' },
    rules: [{ source_labels: ['b'], regex: 'x?', action: 'keep' }],
    want: { a: 'foo' },
  },
  {
    name: 'a dropped set stops later rules',
    input: { __name__: 'go_gc_duration_seconds', job: 'x' },
    rules: [
      { source_labels: ['__name__'], regex: 'go_.*', action: 'drop' },
      { target_label: 'never', replacement: 'set' },
    ],
    want: undefined,
  },
  {
    name: 'hashmod (Prometheus test value for "baz" mod 1000)',
    input: { a: 'foo', b: 'bar', c: 'baz' },
    rules: [{ source_labels: ['c'], target_label: 'd', action: 'hashmod', modulus: 1000 }],
    want: { a: 'foo', b: 'bar', c: 'baz', d: '976' },
  },
  {
    name: 'hashmod of a value with a newline',
    input: { a: 'foo\nbar' },
    rules: [{ source_labels: ['a'], target_label: 'b', action: 'hashmod', modulus: 1000 }],
    want: { a: 'foo\nbar', b: '734' },
  },
  {
    name: 'hashmod then keep: the usual sharding pair',
    input: { __address__: 'host:9100' },
    rules: [
      { source_labels: ['__address__'], target_label: '__tmp_hash', action: 'HashMod', modulus: 1 },
      { source_labels: ['__tmp_hash'], regex: '0', action: 'keep' },
    ],
    want: { __address__: 'host:9100', __tmp_hash: '0' },
  },
  {
    name: 'labelmap copies matching labels under new names',
    input: { a: 'foo', b1: 'bar', b2: 'baz' },
    rules: [{ regex: '(b.*)', replacement: 'bar_${1}', action: 'labelmap' }],
    want: { a: 'foo', b1: 'bar', b2: 'baz', bar_b1: 'bar', bar_b2: 'baz' },
  },
  {
    name: 'labelmap of __meta labels with the default replacement',
    input: { __meta_my_bar: 'aaa', __meta_my_baz: 'bbb', __meta_other: 'ccc' },
    rules: [{ regex: '__meta_(my.*)', action: 'labelmap' }],
    want: { __meta_my_bar: 'aaa', __meta_my_baz: 'bbb', __meta_other: 'ccc', my_bar: 'aaa', my_baz: 'bbb' },
  },
  {
    name: 'labelmap collisions: the later label in the snapshot wins',
    input: { a_x: '1', b_x: '2' },
    rules: [{ regex: '[ab]_(x)', replacement: '$1', action: 'labelmap' }],
    want: { a_x: '1', b_x: '2', x: '2' },
  },
  {
    name: 'labeldrop removes matching names',
    input: { a: 'foo', b1: 'bar', b2: 'baz' },
    rules: [{ regex: '(b.*)', action: 'labeldrop' }],
    want: { a: 'foo' },
  },
  {
    name: 'labelkeep keeps only matching names',
    input: { a: 'foo', b1: 'bar', b2: 'baz' },
    rules: [{ regex: '(b.*)', action: 'labelkeep' }],
    want: { b1: 'bar', b2: 'baz' },
  },
  {
    name: 'labeldrop with an anchored regex matches whole names only',
    input: { a: 'foo', ab: 'bar' },
    rules: [{ regex: 'a', action: 'labeldrop' }],
    want: { ab: 'bar' },
  },
  {
    name: 'lowercase and uppercase',
    input: { foo: 'BaR', i: 'straße' },
    rules: [
      { source_labels: ['foo'], target_label: 'foo_lower', action: 'lowercase' },
      { source_labels: ['foo'], target_label: 'foo_upper', action: 'uppercase' },
      { source_labels: ['i'], target_label: 'i_upper', action: 'uppercase' },
    ],
    want: { foo: 'BaR', foo_lower: 'bar', foo_upper: 'BAR', i: 'straße', i_upper: 'STRAßE' },
  },
  {
    name: 'lowercase of a missing label deletes the target',
    input: { t: 'x' },
    rules: [{ source_labels: ['missing'], target_label: 't', action: 'lowercase' }],
    want: {},
  },
  {
    name: 'keepequal keeps when the values match',
    input: { __tmp_port: '1234', __port1: '1234' },
    rules: [{ source_labels: ['__tmp_port'], target_label: '__port1', action: 'keepequal' }],
    want: { __tmp_port: '1234', __port1: '1234' },
  },
  {
    name: 'keepequal drops when they differ',
    input: { __tmp_port: '1234', __port1: '5678' },
    rules: [{ source_labels: ['__tmp_port'], target_label: '__port1', action: 'keepequal' }],
    want: undefined,
  },
  {
    name: 'dropequal drops when the values match',
    input: { __tmp_port: '1234', __port1: '1234' },
    rules: [{ source_labels: ['__tmp_port'], target_label: '__port1', action: 'dropequal' }],
    want: undefined,
  },
  {
    name: 'dropequal keeps when they differ',
    input: { __tmp_port: '1234', __port1: '5678' },
    rules: [{ source_labels: ['__tmp_port'], target_label: '__port1', action: 'dropequal' }],
    want: { __tmp_port: '1234', __port1: '5678' },
  },
  {
    name: 'get sees earlier changes within one run',
    input: { a: 'foo' },
    rules: [
      { source_labels: ['a'], target_label: 'b', replacement: 'x$1' },
      { source_labels: ['b'], target_label: 'a' },
      { source_labels: ['a'], regex: 'xfoo', action: 'keep' },
    ],
    want: { a: 'xfoo', b: 'xfoo' },
  },
  {
    name: 'a deleted then re-set label is present',
    input: { a: 'foo' },
    rules: [
      { regex: 'a', action: 'labeldrop' },
      { target_label: 'a', replacement: 'bar' },
    ],
    want: { a: 'bar' },
  },
  {
    name: 'empty input values are removed from the output',
    input: { a: 'foo', e: '' },
    rules: [{ target_label: 'b', replacement: 'x' }],
    want: { a: 'foo', b: 'x' },
  },
];

for (const c of cases) {
  test(`relabel: ${c.name}`, () => {
    const rules = compileRelabel(parseRelabelConfigs(c.rules, 'relabel_configs'));
    const out = relabel(labelsFrom(c.input), rules);
    if (c.want === undefined) {
      assert.equal(out, undefined);
      return;
    }
    assert.ok(out);
    assert.deepEqual(labelsToRecord(out), c.want);
    assertSorted(out);
  });
}

function assertSorted(ls: Labels): void {
  for (let k = 1; k < ls.length; k++) assert.ok(ls[k - 1]!.name < ls[k]!.name, 'labels sorted and unique');
}

test('an unchanged label set is returned as is, without copying', () => {
  const input = labelsFrom({ a: 'foo' });
  const rules = compileRelabel(parseRelabelConfigs([{ source_labels: ['a'], regex: 'f.*', action: 'keep' }], 'x'));
  assert.equal(relabel(input, rules), input);
  assert.equal(relabel(input, []), input);
});

test('hashmod matches Prometheus (md5, last 8 bytes big-endian, mod) for large moduli', () => {
  // md5("baz") ends in bytes whose uint64 value ends in …976 in decimal; check against BigInt arithmetic.
  assert.equal(hashmod('baz', 1000n), '976');
  assert.equal(hashmod('baz', 2n ** 64n - 1n).length > 3, true);
  assert.equal(hashmod('', 7n), hashmod('', 7n));
});

const invalid: Array<{ name: string; raw: unknown; field: string; msg: RegExp }> = [
  { name: 'not a list', raw: { action: 'keep' }, field: 'rc', msg: /expected a list/ },
  { name: 'entry not a mapping', raw: ['keep'], field: 'rc[0]', msg: /expected a mapping/ },
  { name: 'unknown field', raw: [{ target_label: 'a', tagret: 'x' }], field: 'rc[0].tagret', msg: /field tagret not found/ },
  { name: 'unknown action', raw: [{ action: 'nope' }], field: 'rc[0].action', msg: /unknown relabel action "nope"/ },
  { name: 'empty action', raw: [{ action: '' }], field: 'rc[0].action', msg: /relabel action cannot be empty/ },
  { name: 'null action', raw: [{ action: null }], field: 'rc[0].action', msg: /relabel action cannot be empty/ },
  { name: 'replace without target', raw: [{ source_labels: ['a'] }], field: 'rc[0].target_label', msg: /replace action requires 'target_label' value/ },
  {
    name: 'replace with invalid target',
    raw: [{ target_label: '1abc' }],
    field: 'rc[0].target_label',
    msg: /"1abc" is invalid 'target_label' for replace action/,
  },
  { name: 'replace with invalid templated target', raw: [{ target_label: '${1}-x' }], field: 'rc[0].target_label', msg: /is invalid 'target_label'/ },
  { name: 'replace with a bare dollar target', raw: [{ target_label: 'a$' }], field: 'rc[0].target_label', msg: /is invalid 'target_label'/ },
  {
    name: 'hashmod without modulus',
    raw: [{ action: 'hashmod', target_label: 'h', source_labels: ['a'] }],
    field: 'rc[0].modulus',
    msg: /requires non-zero modulus/,
  },
  { name: 'hashmod with modulus 0', raw: [{ action: 'hashmod', target_label: 'h', modulus: 0 }], field: 'rc[0].modulus', msg: /requires non-zero modulus/ },
  { name: 'hashmod without target', raw: [{ action: 'hashmod', modulus: 2 }], field: 'rc[0].target_label', msg: /hashmod action requires 'target_label'/ },
  {
    name: 'hashmod with templated target',
    raw: [{ action: 'hashmod', modulus: 2, target_label: '$1' }],
    field: 'rc[0].target_label',
    msg: /invalid 'target_label' for hashmod/,
  },
  { name: 'negative modulus', raw: [{ action: 'hashmod', target_label: 'h', modulus: -1 }], field: 'rc[0].modulus', msg: /non-negative integer/ },
  { name: 'fractional modulus', raw: [{ action: 'hashmod', target_label: 'h', modulus: 1.5 }], field: 'rc[0].modulus', msg: /non-negative integer/ },
  { name: 'bad regex', raw: [{ regex: 'a(', action: 'keep' }], field: 'rc[0].regex', msg: /error parsing regexp: missing closing \): `a\(`/ },
  {
    name: 'lowercase with replacement',
    raw: [{ action: 'lowercase', target_label: 'a', replacement: 'x' }],
    field: 'rc[0].replacement',
    msg: /'replacement' can not be set for lowercase action/,
  },
  {
    name: 'uppercase with invalid target',
    raw: [{ action: 'uppercase', target_label: 'a-b' }],
    field: 'rc[0].target_label',
    msg: /invalid 'target_label' for uppercase/,
  },
  {
    name: 'keepequal with regex',
    raw: [{ action: 'keepequal', target_label: 'a', regex: '(.*)' }],
    field: 'rc[0].regex',
    msg: /keepequal action requires only 'source_labels' and 'target_label'/,
  },
  {
    name: 'dropequal with separator',
    raw: [{ action: 'dropequal', target_label: 'a', separator: ',' }],
    field: 'rc[0].separator',
    msg: /dropequal action requires only/,
  },
  {
    name: 'dropequal with modulus',
    raw: [{ action: 'dropequal', target_label: 'a', modulus: 3 }],
    field: 'rc[0].modulus',
    msg: /dropequal action requires only/,
  },
  { name: 'keepequal without target', raw: [{ action: 'keepequal', source_labels: ['a'] }], field: 'rc[0].target_label', msg: /requires 'target_label' value/ },
  {
    name: 'labeldrop with source_labels',
    raw: [{ action: 'labeldrop', regex: 'a', source_labels: [] }],
    field: 'rc[0].source_labels',
    msg: /labeldrop action requires only 'regex'/,
  },
  {
    name: 'labelkeep with target_label',
    raw: [{ action: 'labelkeep', regex: 'a', target_label: 'b' }],
    field: 'rc[0].target_label',
    msg: /labelkeep action requires only 'regex'/,
  },
  {
    name: 'labelkeep with replacement',
    raw: [{ action: 'labelkeep', regex: 'a', replacement: 'b' }],
    field: 'rc[0].replacement',
    msg: /labelkeep action requires only 'regex'/,
  },
  {
    name: 'labelmap with invalid replacement',
    raw: [{ action: 'labelmap', regex: '(.*)', replacement: '$1-x' }],
    field: 'rc[0].replacement',
    msg: /"\$1-x" is invalid 'replacement' for labelmap action/,
  },
  { name: 'source_labels not a list', raw: [{ source_labels: 'a', target_label: 'b' }], field: 'rc[0].source_labels', msg: /expected a list of label names/ },
  {
    name: 'invalid source label',
    raw: [{ source_labels: ['ok', 'a-b'], target_label: 'b' }],
    field: 'rc[0].source_labels[1]',
    msg: /"a-b" is not a valid label name/,
  },
  { name: 'mapping as replacement', raw: [{ target_label: 'b', replacement: { x: 1 } }], field: 'rc[0].replacement', msg: /expected a string, got a mapping/ },
  { name: 'second entry reported with its index', raw: [{ target_label: 'a' }, { action: 'drop', tagret: 1 }], field: 'rc[1].tagret', msg: /not found/ },
];

for (const c of invalid) {
  test(`relabel config rejects: ${c.name}`, () => {
    assert.throws(
      () => parseRelabelConfigs(c.raw, 'rc'),
      (err: unknown) => {
        assert.ok(err instanceof RelabelConfigError, String(err));
        assert.equal(err.field, c.field);
        assert.match(err.message, c.msg);
        assert.ok(err.message.startsWith(`${c.field}: `));
        return true;
      },
    );
  });
}

test('defaults are filled in and the action is case-insensitive', () => {
  assert.deepEqual(parseRelabelConfigs(null, 'rc'), []);
  assert.deepEqual(parseRelabelConfigs(undefined, 'rc'), []);
  const [c] = parseRelabelConfigs([{ target_label: 'x', action: 'RePlAcE' }], 'rc');
  assert.deepEqual(c, {
    sourceLabels: [],
    separator: ';',
    regex: '(.*)',
    modulus: 0,
    targetLabel: 'x',
    replacement: '$1',
    action: 'replace',
    regexSet: false,
    sourceLabelsSet: false,
  });
});

test('scalar YAML values are read as their text, as Go yaml does for string fields', () => {
  const [c] = parseRelabelConfigs([{ source_labels: ['a'], regex: 200, target_label: 'b', replacement: true }], 'rc');
  assert.equal(c!.regex, '200');
  assert.equal(c!.replacement, 'true');
  const [n] = parseRelabelConfigs([{ source_labels: ['a'], regex: null, action: 'keep' }], 'rc');
  assert.equal(n!.regex, '');
});

test('valid templated targets are accepted', () => {
  for (const t of ['$1', '${1}', 'foo_${bar}', '${1}_${2}abc', '$a$b', '_x', 'a1']) {
    assert.doesNotThrow(() => parseRelabelConfigs([{ target_label: t }], 'rc'), t);
  }
});
