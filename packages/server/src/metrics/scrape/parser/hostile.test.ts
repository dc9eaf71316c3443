/**
 * Hostile input: random bytes, mutated valid bodies, huge lines and huge label sets. Every body
 * must end in entries or an ExpositionError: never another exception, never a hang. Sizes are
 * bounded so the whole file runs in a few seconds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpositionError } from './errors.js';
import { createParser } from './index.js';
import { drain } from '../../../testkit/scrape_parser.js';
import { TEXT_FORMATS } from './types.js';

/** mulberry32: a small seeded PRNG, so a failure reproduces from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Bytes that matter to the lexers, so random input reaches deep states, plus anything at all.
const ALPHABET = Buffer.from('abc_:{}="\\, \t\n#01.e+-InfNaHELPTYUOF\0\xff\xc3\xa9', 'latin1');

function randomBody(rnd: () => number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = rnd() < 0.8 ? ALPHABET[Math.floor(rnd() * ALPHABET.length)]! : Math.floor(rnd() * 256);
  return b;
}

const VALID_PROM = Buffer.from(
  [
    '# HELP http_requests_total Requests.\\nSecond line.',
    '# TYPE http_requests_total counter',
    'http_requests_total{method="post",code="200"} 1027 1395066363000',
    'http_requests_total{method="post",code="400"}    3 1395066363000',
    'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
    '# TYPE h histogram',
    'h_bucket{le="0.05"} 24054',
    'h_bucket{le="+Inf"} 144320',
    'h_sum 53423',
    '{"my.dotted", "a.b"="c"} NaN',
    '',
  ].join('\n'),
);

const VALID_OM = Buffer.from(
  [
    '# TYPE foo counter',
    '# UNIT foo_seconds seconds',
    '# HELP foo Help with \\"quotes\\".',
    'foo_total{a="b"} 17.0 1520879607.789 # {trace_id="abc"} 5 1520879607.7',
    'foo_created{a="b"} 1520872607.123',
    '# TYPE s stateset',
    's{s="x"} 1',
    '# TYPE g gaugehistogram',
    'g_bucket{le="+Inf"} 2',
    'g_gcount 2',
    '# EOF',
    '',
  ].join('\n'),
);

function mutate(rnd: () => number, src: Buffer): Buffer {
  let b = Buffer.from(src);
  const edits = 1 + Math.floor(rnd() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * (b.length + 1));
    const op = Math.floor(rnd() * 5);
    if (op === 0) b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rnd() * 8)))]);
    else if (op === 1) b = Buffer.concat([b.subarray(0, at), randomBody(rnd, 1 + Math.floor(rnd() * 4)), b.subarray(at)]);
    else if (op === 2 && at < b.length) b[at] = ALPHABET[Math.floor(rnd() * ALPHABET.length)]!;
    else if (op === 3) {
      const from = Math.floor(rnd() * b.length);
      b = Buffer.concat([b.subarray(0, at), b.subarray(from, from + Math.floor(rnd() * 40)), b.subarray(at)]);
    } else b = b.subarray(0, at);
  }
  return b;
}

function assertParsesOrRejects(body: Buffer, seed: number): void {
  for (const format of TEXT_FORMATS) {
    let r: number | ExpositionError;
    try {
      r = drain(body, format);
    } catch (err) {
      assert.fail(`seed ${seed}, ${format}: ${String(err)} on ${JSON.stringify(body.toString('latin1'))}`);
    }
    if (r instanceof ExpositionError) {
      assert.ok(r.line >= 1 && r.column >= 1, `seed ${seed}: bad position ${r.line}:${r.column}`);
      assert.ok(r.message.length < 1000, `seed ${seed}: unbounded message`);
    }
  }
}

test('random bytes end in entries or an ExpositionError', () => {
  for (let seed = 1; seed <= 10_000; seed++) {
    const rnd = prng(seed);
    assertParsesOrRejects(randomBody(rnd, Math.floor(rnd() * 120)), seed);
  }
});

test('random mutations of valid bodies end in entries or an ExpositionError', () => {
  let parsed = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const rnd = prng(seed * 7919);
    const src = seed % 2 === 0 ? VALID_PROM : VALID_OM;
    const body = mutate(rnd, src);
    assertParsesOrRejects(body, seed);
    if (typeof drain(body, seed % 2 === 0 ? 'prometheus-text' : 'openmetrics-text') === 'number') parsed++;
  }
  // The mutations must not all be fatal, or the test would only exercise the first line.
  assert.ok(parsed > 100, `only ${parsed} mutated bodies parsed`);
});

test('the unmutated bodies parse', () => {
  assert.equal(drain(VALID_PROM, 'prometheus-text'), 10);
  assert.equal(drain(VALID_OM, 'openmetrics-text'), 10);
});

const TEN_MB = 10 * 1024 * 1024;

test('a 10 MB label value parses, in both formats', () => {
  const big = 'x'.repeat(TEN_MB);
  for (const format of TEXT_FORMATS) {
    const body = Buffer.from(`m{big="${big}",small="y"} 1\n${format === 'openmetrics-text' ? '# EOF\n' : ''}`);
    const p = createParser(body, format);
    assert.equal(p.next(), 'series');
    const labels = p.labels();
    assert.equal(labels.find((l) => l.name === 'big')?.value.length, TEN_MB);
    assert.equal(p.next(), 'eof');
  }
});

test('an unterminated 10 MB label value is an ExpositionError with a bounded message', () => {
  const body = Buffer.from(`m{big="${'x'.repeat(TEN_MB)}`);
  for (const format of TEXT_FORMATS) {
    const r = drain(body, format);
    assert.ok(r instanceof ExpositionError);
    assert.ok(r.message.length < 1000, `message of ${r.message.length} chars`);
  }
});

test('a 10 MB line of braces, quotes or digits fails fast', () => {
  for (const ch of ['{', '"', '9', '#', ' ', '\\']) {
    const body = Buffer.alloc(TEN_MB, ch);
    for (const format of TEXT_FORMATS) {
      const r = drain(body, format);
      assert.ok(r instanceof ExpositionError || typeof r === 'number');
    }
  }
});

test('100k labels on one series parse; duplicates among them are rejected', () => {
  const N = 100_000;
  const parts: string[] = [];
  for (let k = 0; k < N; k++) parts.push(`l${k}="v${k}"`);
  for (const format of TEXT_FORMATS) {
    const eof = format === 'openmetrics-text' ? '# EOF\n' : '';
    const p = createParser(Buffer.from(`m{${parts.join(',')}} 1\n${eof}`), format);
    assert.equal(p.next(), 'series');
    assert.equal(p.labels().length, N + 1);
    const dup = drain(Buffer.from(`m{${parts.join(',')},l5="again"} 1\n${eof}`), format);
    assert.ok(dup instanceof ExpositionError && /label name "l5" is not unique/.test(dup.message));
  }
});

test('100k lines of series parse quickly', () => {
  const lines: string[] = [];
  for (let k = 0; k < 100_000; k++) lines.push(`http_requests_total{method="get",code="200",path="/api/v${k % 10}",instance="i${k}"} ${k} 1700000000000`);
  const body = Buffer.from(lines.join('\n') + '\n');
  const t0 = performance.now();
  const p = createParser(body, 'prometheus-text');
  let n = 0;
  let sum = 0;
  for (let k = p.next(); k !== 'eof'; k = p.next()) {
    sum += p.seriesKey().length + p.value();
    n++;
  }
  const ms = performance.now() - t0;
  assert.equal(n, 100_000);
  assert.ok(sum > 0);
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
});
