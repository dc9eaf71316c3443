import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Labels } from '../../core/model/labels.js';
import { ByteWriter } from '../../core/util/bytes.js';
import { forEachTokenHash } from '../../core/util/bloom.js';
import { compressChunk, encodeChunk, openChunk } from './chunk.js';
import { ColumnarChunk, ColumnarEncoder, splitJsonObject } from './columnar.js';
import type { Codec } from './codec.js';

const T0 = 1_700_000_000_000n * 1_000_000n;

/** Lines that stress byte-exact reconstruction. */
const TRICKY = [
  '{"ts":"2024-01-01T00:00:00.000Z","level":"info","msg":"request completed","n":1.50}',
  '{"ts":"2024-01-01T00:00:00.001Z","level":"info","msg":"request completed","n":1e3}',
  '{"ts":"2024-01-01T00:00:00.002Z","level":"warn","msg":"quote \\" and backslash \\\\ and \\n newline","n":-0}',
  '{"ts":"2024-01-01T00:00:00.003Z","level":"info","msg":"héllo 世界 🎉 \\u00e9","n":0}',
  '{"a":{"b":[1,2,{"c":"d\\"}"}],"e":null},"f":[],"g":{}}',
  '{"a":1,"a":2,"a":"dup"}',
  '{ "a" : 1 , "b":"x" ,"c" :true}',
  '  {"a":1}  ',
  '{"a":1}\t',
  '{}',
  '{ }',
  '',
  'plain text line, not json: key=value',
  '[1,2,3]',
  '{"a":}',
  '{"a":"unterminated',
  '{"a":1,}',
  '{"a":1} trailing',
  '{"a":tru e}',
  '{"a":"raw\ttab"}',
  '{"a":"x"}\n{"b":"y"}',
  '{"nested":{"deep":{"deeper":[{"x":"quest complete"}]}},"msg":"quest complete"}',
  '{"empty":"","zero":0,"neg":-12.5e-3,"big":123456789012345678901234567890}',
  '{"k":"v","k2":"v2"}',
  '{"k":"other","k2":"v2"}',
  '{"ünï":"cödé","emoji":"🎉"}',
  '{"a":"\\ud83c\\udf89","b":"\\/"}',
];

function encodeDecode(lines: readonly string[], metas: readonly (Labels | undefined)[] = [], codec: Codec = 'brotli'): ColumnarChunk {
  const ts = lines.map((_, i) => T0 + BigInt(i) * 1_000_000n + BigInt(i % 7));
  const enc = new ColumnarEncoder();
  const r = enc.encodeLines(ts, lines, metas.length ? metas : lines.map(() => undefined), codec, 4);
  const d = openChunk(r.data);
  assert.ok(d instanceof ColumnarChunk);
  return d;
}

test('columnar chunks rebuild every line byte for byte', () => {
  for (const codec of ['none', 'deflate', 'brotli'] as const) {
    const lines = [...TRICKY, ...TRICKY.map((l) => l.replace('info', 'error'))];
    const d = encodeDecode(lines, [], codec);
    assert.equal(d.length, lines.length);
    for (let i = 0; i < lines.length; i++) {
      assert.equal(d.line(i), lines[i], `line ${i} (${codec})`);
      assert.equal(d.lineBytes(i), Buffer.byteLength(lines[i]!));
      assert.equal(d.t(i), T0 + BigInt(i) * 1_000_000n + BigInt(i % 7));
      assert.equal(d.timeMs(i), Number(d.t(i) / 1000n) / 1000);
    }
  }
});

test('structured metadata, many shapes and many distinct values survive', () => {
  const lines: string[] = [];
  const metas: (Labels | undefined)[] = [];
  for (let i = 0; i < 3000; i++) {
    // 100 shapes (more than a chunk keeps), dictionary and raw columns.
    lines.push(`{"k${i % 100}":"v${i % 3}","id":"${i.toString(16)}","x":${i * 7}}`);
    metas.push(i % 5 === 0 ? [{ name: 'trace_id', value: `t${i}` }] : undefined);
  }
  const d = encodeDecode(lines, metas);
  for (let i = 0; i < lines.length; i++) {
    const e = d.entry(i);
    assert.equal(e.line, lines[i]);
    assert.deepEqual(e.meta, metas[i]);
  }
});

test('the splitter finds top-level values as raw text', () => {
  const b = Buffer.from('{"a":"x\\"y","b":1.50,"c":{"d":[1]},"e":null}');
  const vs = new Int32Array(64);
  const ve = new Int32Array(64);
  const k = splitJsonObject(b, 0, b.length, vs, ve);
  assert.equal(k, 4);
  const vals = [...Array(k).keys()].map((j) => b.toString('utf8', vs[j], ve[j]));
  assert.deepEqual(vals, ['x\\"y', '1.50', '{"d":[1]}', 'null']);
  for (const bad of ['{"a":1,}', '{"a"1}', '[1]', '{"a":"\x01"}', '{"a":1} x'])
    assert.equal(splitJsonObject(Buffer.from(bad), 0, Buffer.byteLength(bad), vs, ve), -1, bad);
});

test('the bloom filter holds every token of every line', () => {
  const lines = [...TRICKY];
  for (let i = 0; i < 500; i++) lines.push(`{"request_id":"req-${((i * 2654435761) >>> 0).toString(16)}","user":"u-${i}","msg":"ok ${i % 3}"}`);
  const enc = new ColumnarEncoder();
  const r = enc.encodeLines(
    lines.map((_, i) => T0 + BigInt(i)),
    lines,
    lines.map(() => undefined),
    'none',
    0,
  );
  for (const l of lines) forEachTokenHash(l, (h) => assert.ok(r.bloom.has(h), `token of ${l}`));
});

test('timestamps spanning more than 2^53 ns, and before 1970, stay exact', () => {
  const ts = [-5_000_000_123n, -1n, 0n, 1n, T0, T0 + (1n << 60n)];
  const lines = ts.map((t) => `{"t":"${t}"}`);
  const r = new ColumnarEncoder().encodeLines(ts, lines, [], 'none', 0);
  const d = openChunk(r.data);
  for (let i = 0; i < ts.length; i++) {
    assert.equal(d.t(i), ts[i]);
    assert.equal(d.timeMs(i), Number(ts[i]! / 1000n) / 1000);
  }
  assert.equal(d.lowerBound(0n), 2);
  assert.equal(d.lowerBound(T0 + 1n), 5);
  assert.equal(d.lowerBound(-(1n << 62n)), 0);
  assert.equal(d.lowerBound(1n << 62n), 6);
});

test('chunks in the row layout of earlier versions are still read', () => {
  const lines = ['a', '{"b":1}', 'c'];
  const ts = [T0, T0 + 1n, T0 + 2n];
  const data = compressChunk(encodeChunk(ts, lines, [undefined, [{ name: 'm', value: 'v' }], undefined], new ByteWriter()), 'deflate', 6);
  const d = openChunk(data);
  assert.deepEqual(
    [0, 1, 2].map((i) => d.line(i)),
    lines,
  );
  assert.deepEqual(d.entry(1).meta, [{ name: 'm', value: 'v' }]);
  assert.deepEqual([...d.match([Buffer.from('b')], 0, 3)], [1]);
});

/** A deterministic random generator for the differential test. */
function rng(seed: number): () => number {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

test('needle search in columns equals indexOf over the rebuilt lines (differential)', () => {
  const rnd = rng(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const words = ['quest', 'complete', 'req', 'a"b', 'x:y', 'p,q', '{z}', 'é', '🎉', '\\n', ' ', 'GET', 'POST', '1.50', 'u-12'];
  const lines: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const kind = rnd();
    if (kind < 0.7)
      lines.push(
        `{"ts":"2024-01-01T00:00:${String(i % 60).padStart(2, '0')}Z","level":"${pick(['info', 'warn', 'error'])}","msg":"${pick(words)} ${pick(words)}","id":"${Math.floor(rnd() * 1e9).toString(16)}","n":${Math.floor(rnd() * 1000)},"o":{"k":"${pick(words)}"}}`,
      );
    else if (kind < 0.8) lines.push(`{ "msg" : "${pick(words)}" , "n": ${i} }`);
    else if (kind < 0.9) lines.push(`plain ${pick(words)} line ${i}`);
    else lines.push(TRICKY[i % TRICKY.length]!);
  }
  const d = encodeDecode(lines);
  const bytes = lines.map((l) => Buffer.from(l));
  const needles: string[] = ['', 'quest comple', '"level":"info"', 'info","msg', 'o":{"k', ':', '"', ',', '}', '\n', ' ', '0Z","le', 'error'];
  for (let i = 0; i < 300; i++) {
    // Random substrings of random lines: many span value boundaries.
    const l = pick(lines);
    const a = Math.floor(rnd() * (l.length + 1));
    needles.push(l.slice(a, a + 1 + Math.floor(rnd() * 12)));
  }
  for (let i = 0; i < 50; i++) needles.push(pick(words) + pick(['', ' ', '"', ',"']) + pick(words));
  for (const needle of needles) {
    const nb = Buffer.from(needle);
    for (const [lo, hi] of [
      [0, lines.length],
      [17, 1234],
    ] as const) {
      const want: number[] = [];
      for (let i = lo; i < hi; i++) if (bytes[i]!.indexOf(nb) >= 0) want.push(i);
      assert.deepEqual([...d.match([nb], lo, hi)], want, `needle ${JSON.stringify(needle)} in [${lo}, ${hi})`);
    }
  }
  // Several needles: every one must be present.
  for (let i = 0; i < 50; i++) {
    const ns = [pick(needles), pick(needles)].map((x) => Buffer.from(x));
    const want: number[] = [];
    for (let j = 0; j < lines.length; j++) if (ns.every((n) => bytes[j]!.indexOf(n) >= 0)) want.push(j);
    assert.deepEqual([...d.match(ns, 0, lines.length)], want);
  }
});

test('decimal and hex columns are stored as binary and rebuild exactly, near misses stay text', () => {
  const rnd = rng(3);
  const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rnd() * 16)]).join('');
  const lines: string[] = [];
  for (let i = 0; i < 500; i++)
    lines.push(
      JSON.stringify({
        rid: `req-${hex(12)}`,
        uid: `u-${Math.floor(rnd() * 50000)}`,
        n: Math.floor(rnd() * 1000),
        amount: (rnd() * 500).toFixed(2),
        big: Math.floor(rnd() * 1e15),
        zero: 0,
        lead: i % 50 === 7 ? '007' : String(i),
        scale: i % 60 === 9 ? '1.5' : '1.50',
        upper: i % 70 === 3 ? 'ABCDEF' : 'abcdef',
        neg: -i,
        hexodd: hex(5),
      }).replace('"n":', '"n": '),
    );
  const d = encodeDecode(lines, [], 'brotli');
  for (let i = 0; i < lines.length; i++) assert.equal(d.line(i), lines[i]);
  const kinds = (d as unknown as { infos: { kind: number }[] }).infos.map((x) => x.kind);
  assert.ok(kinds.includes(2) && kinds.includes(3), `column kinds ${kinds.join(',')}`);
  // Needles in binary columns are found through their rebuilt text.
  const bytes = lines.map((l) => Buffer.from(l));
  for (const needle of ['req-', '-1', '.5', '00', lines[123]!.slice(8, 14), '9.9', 'u-4']) {
    const nb = Buffer.from(needle);
    const want: number[] = [];
    for (let i = 0; i < lines.length; i++) if (bytes[i]!.indexOf(nb) >= 0) want.push(i);
    assert.deepEqual([...d.match([nb], 0, lines.length)], want, needle);
  }
});
