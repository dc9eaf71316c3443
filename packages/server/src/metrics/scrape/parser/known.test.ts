import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createParser, type ExpositionFormat, type ExpositionParser } from './index.js';

interface Line {
  kind: string;
  known?: boolean;
  key?: string;
  name?: string;
  labels?: Record<string, string>;
  value?: number;
  ts?: number | undefined;
  exemplar?: string;
  created?: boolean;
}

/** Key offsets of every series of `body`, in order, as the scrape loop records them. */
function keysOf(body: Buffer, format: ExpositionFormat): Array<[number, number]> {
  const p = createParser(body, format);
  const out: Array<[number, number]> = [];
  for (let k = p.next(); k !== 'eof'; k = p.next()) if (k === 'series') out.push([p.seriesKeyStart(), p.seriesKeyEnd()]);
  return out;
}

/** Parses `next` offering, at each series position, the key the same position had in `prev`. */
function parseExpecting(prevText: string, nextText: string, format: ExpositionFormat = 'prometheus-text'): Line[] {
  const prev = Buffer.from(prevText);
  const keys = prevText === '' ? [] : keysOf(prev, format);
  const p: ExpositionParser = createParser(Buffer.from(nextText), format);
  const out: Line[] = [];
  let n = 0;
  for (;;) {
    const k = keys[n];
    const kind = k ? p.nextExpecting(prev, k[0], k[1]) : p.next();
    if (kind === 'eof') break;
    if (kind !== 'series') {
      out.push({ kind });
      continue;
    }
    n++;
    const known = p.seriesKnown();
    const ex = p.exemplar();
    if (known) {
      p.labels();
      assert.equal(p.seriesKnown(), true, 'still true after the labels were decoded on demand');
    }
    const line: Line = {
      kind,
      known,
      key: p.seriesKey(),
      name: p.metricName(),
      labels: Object.fromEntries(p.labels().map((l) => [l.name, l.value])),
      value: p.value(),
      ts: p.timestamp(),
      created: p.isCreated(),
    };
    if (ex) line.exemplar = `${ex.labels.map((l) => `${l.name}=${l.value}`).join(',')} ${ex.value} ${ex.ts}`;
    out.push(line);
  }
  return out;
}

/** The same body parsed with plain next(): what nextExpecting must agree with, line by line. */
function parsePlain(text: string, format: ExpositionFormat = 'prometheus-text'): Line[] {
  return parseExpecting('', text, format).map((l) => (l.kind === 'series' ? { ...l, known: false } : l));
}

function sameAsPlain(prev: string, next: string, format: ExpositionFormat = 'prometheus-text'): Line[] {
  const got = parseExpecting(prev, next, format);
  assert.deepEqual(
    got.map((l) => (l.kind === 'series' ? { ...l, known: false } : l)),
    parsePlain(next, format),
  );
  return got;
}

test('an unchanged key is recognised without lexing it; its labels are still decoded on demand', () => {
  const prev = '# TYPE h histogram\nh_bucket{le="1",path="/a\\"b"} 1\nh_bucket{le="+Inf",path="/a\\"b"} 2\nh_count{path="/a\\"b"} 2\nplain 1\n';
  const next = prev.replace(/ (\d)\n/g, ' 1$1\n');
  const got = sameAsPlain(prev, next);
  assert.deepEqual(
    got.map((l) => l.known),
    [undefined, true, true, true, true],
  );
  // Normalised `le` and unescaped values come out of the lazy decoding as out of a full parse.
  assert.deepEqual(got[1]!.labels, { __name__: 'h_bucket', le: '1.0', path: '/a"b' });
  assert.equal(got[4]!.value, 11);
});

test('a key that only starts like the expected one is parsed in full', () => {
  // `name` followed by blanks and `{` continues the key in the text format.
  let got = sameAsPlain('name 1\n', 'name {a="b"} 2\n');
  assert.equal(got[0]!.known, false);
  assert.deepEqual(got[0]!.labels, { __name__: 'name', a: 'b' });
  // A longer name, a longer label value, a different value in the same place.
  got = sameAsPlain('x 1\ny{a="b"} 1\nz{a="b"} 1\n', 'xx 1\ny{a="bc"} 1\nz{a="c"} 1\n');
  assert.deepEqual(
    got.map((l) => [l.known, l.key]),
    [
      [false, 'xx'],
      [false, 'y{a="bc"}'],
      [false, 'z{a="c"}'],
    ],
  );
  // No blank after `}`: the lexer accepts the value there, the fast path leaves it to next().
  got = sameAsPlain('m{a="b"} 1\n', 'm{a="b"}7\n');
  assert.deepEqual([got[0]!.known, got[0]!.value], [false, 7]);
});

test('comments, metadata, blank lines and leading blanks in between go through next()', () => {
  const prev = 'a 1\nb 1\nc 1\n';
  const next = '# HELP a A.\na 2\n\n# a comment\nb 2\n   c 2\n';
  const got = sameAsPlain(prev, next);
  assert.deepEqual(
    got.map((l) => (l.kind === 'series' ? `${l.key}:${l.known}` : l.kind)),
    // Metadata is its own entry, so `a` after it is recognised; a blank or a comment line in front
    // of `b`, or blanks in front of `c`, send the line the slow way.
    ['help', 'a:true', 'b:false', 'c:false'],
  );
});

test('errors after a recognised key are the errors of a full parse', () => {
  const prev = 'a{x="1"} 1\n';
  for (const bad of ['a{x="1"} \n', 'a{x="1"} 1 2 3\n', 'a{x="1"} one\n', 'a{x="1"} 1 1.5\n']) {
    const plain = (): unknown => parsePlain(bad);
    const fast = (): unknown => parseExpecting(prev, bad);
    let expected: Error | undefined;
    try {
      plain();
    } catch (err) {
      expected = err as Error;
    }
    assert.ok(expected, `${JSON.stringify(bad)} is invalid`);
    assert.throws(fast, { message: expected.message });
  }
});

test('timestamps and values of recognised keys: NaN, stale-looking and infinite values parse as usual', () => {
  const got = sameAsPlain('a 1 1000\nb 1\nc 1\n', 'a NaN 2000\nb +Inf\nc -1.5e3\n');
  assert.deepEqual(
    got.map((l) => [l.known, l.value, l.ts]),
    [
      [true, NaN, 2000],
      [true, Infinity, undefined],
      [true, -1500, undefined],
    ],
  );
});

test('OpenMetrics: recognised keys keep timestamps, exemplars and _created; one space only', () => {
  const format = 'openmetrics-text';
  const prev = '# TYPE c counter\nc_total{a="1"} 1 # {trace_id="x"} 1 1.5\nc_created{a="1"} 1.7e9\n# EOF\n';
  const next = '# TYPE c counter\nc_total{a="1"} 2 1700000001.5 # {trace_id="y"} 2\nc_created{a="1"} 1.7e9\n# EOF\n';
  const got = sameAsPlain(prev, next, format);
  assert.deepEqual(
    got.map((l) => (l.kind === 'series' ? [l.known, l.value, l.ts, l.exemplar ?? '', l.created] : l.kind)),
    ['type', [true, 2, 1_700_000_001_500, 'trace_id=y 2 undefined', false], [true, 1.7e9, undefined, '', true]],
  );
  // `c{` continues the key `c`; two spaces are an error either way.
  const g2 = sameAsPlain('c 1\n# EOF\n', 'c{a="1"} 1\n# EOF\n', format);
  assert.equal(g2[0]!.known, false);
  assert.throws(() => parseExpecting('c 1\n# EOF\n', 'c  1\n# EOF\n', format));
  assert.throws(() => parsePlain('c  1\n# EOF\n', format));
});
