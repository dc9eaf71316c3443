import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StorageError } from '../../core/errors.js';
import { demoTrace, rng } from '../../testkit/tracegen.js';
import type { Span } from '../storage/types.js';
import { TraceStore } from './store.js';
import type { TraceStoreOptions } from './options.js';
import { listSegments, REC_OTLP, REC_SPANS, segmentName } from './wal.js';
import { scanFrames } from '../../core/encoding/framing.js';
import { DEFAULT_TRACE_LIMITS } from '../ingest/limits.js';
import { decodeOtlpTracesJson, decodeOtlpTracesProto } from '../ingest/otlp.js';
import { encodeTracesData, toOtlpJson } from '../ingest/otlp_encode.js';
import { verifyTraces } from './verify.js';

const NOW_MS = 1_800_000_000_000;
const T0 = BigInt(NOW_MS) * 1_000_000n - 3_600_000_000_000n;
const SEC = 1_000_000_000n;
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-tracestore-'));

function open(opts: Partial<TraceStoreOptions> & { dir: string }): TraceStore {
  const s = new TraceStore({ now: () => NOW_MS, tickIntervalMs: 0, ...opts });
  s.start();
  return s;
}

/** `n` demo traces, one per 100 ms from `fromSec`. */
function traces(n: number, seed: number, fromSec = 0): Span[][] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => demoTrace(r, T0 + BigInt(fromSec) * SEC + BigInt(i) * 100_000_000n));
}

const blockFiles = (dir: string): string[] => fs.readdirSync(path.join(dir, 'blocks')).sort();

test('cuts the head into blocks of pages; a rare hint reads only the pages whose bloom may hold it', () => {
  const dir = tmp();
  try {
    const s = open({ dir, blockMaxSpans: 5000, pageMaxSpans: 500 });
    const all = traces(2000, 1);
    for (let i = 0; i < all.length; i += 50) s.append(all.slice(i, i + 50).flat());
    const rare = demoTrace(rng(9), T0 + 30n * SEC).map((sp) => ({ ...sp, resource: { ...sp.resource, 'service.name': 'rare-svc' } }));
    s.append(rare);
    s.cut();
    const st = s.stats();
    assert.equal(st.headSpans, 0);
    assert.ok(st.blocks >= 4, `${st.blocks} blocks`);
    assert.equal(blockFiles(dir).length, st.blocks);
    const spans = all.reduce((n, t) => n + t.length, 0) + rare.length;
    assert.equal(st.blockSpans, spans);
    const pages = Math.ceil(spans / 500);
    console.log(`${spans} demo spans: ${st.blocks} blocks, ${(st.blockBytes / spans).toFixed(1)} bytes/span on disk`);
    assert.ok(st.blockBytes / spans < 200, `${(st.blockBytes / spans).toFixed(1)} bytes per span`);

    const before = s.stats().pagesRead;
    const found = [...s.search({ start: T0, end: T0 + 3600n * SEC, service: 'rare-svc' })];
    assert.deepEqual(
      found.map((t) => t[0]!.traceId),
      [rare[0]!.traceId],
    );
    const read = s.stats().pagesRead - before;
    assert.ok(read <= 3, `a rare service read ${read} of about ${pages} pages`);
    // An attribute value only one trace has: the same.
    const before2 = s.stats().pagesRead;
    const reqId = all[1234]![0]!.attributes['request.id'] as string;
    const byAttr = [...s.search({ start: T0, end: T0 + 3600n * SEC, attributes: [{ key: 'request.id', value: reqId }] })];
    assert.deepEqual(
      byAttr.map((t) => t[0]!.traceId),
      [all[1234]![0]!.traceId],
    );
    assert.ok(s.stats().pagesRead - before2 <= 3);
    // By id: every span back, from one page.
    const before3 = s.stats().pagesRead;
    assert.equal(s.trace(all[777]![0]!.traceId).length, all[777]!.length);
    assert.ok(s.stats().pagesRead - before3 <= 1);
    s.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('retention drops blocks whose spans all ended before the period, then the oldest over the size budget', () => {
  const dir = tmp();
  let now = NOW_MS;
  try {
    const s = open({ dir, now: () => now, retentionMs: 2 * 3_600_000, blockMaxSpans: 1_000_000, compactBelowSpans: 0 });
    for (let b = 0; b < 4; b++) {
      s.append(traces(20, 10 + b, b * 600).flat());
      s.cut();
    }
    assert.equal(s.stats().blocks, 4);
    const first = traces(1, 10)[0]![0]!.traceId;
    // 70 minutes later, the first block (spans from -60 min) is past two hours; the others are not.
    now += 70 * 60_000;
    s.tick();
    assert.equal(s.stats().blocks, 3);
    assert.deepEqual(s.trace(first), []);
    s.stop();
    const sizeBudget = new TraceStore({ dir, now: () => now, tickIntervalMs: 0, retentionBytes: 1, compactBelowSpans: 0 });
    sizeBudget.start();
    const sizes = sizeBudget.stats().blockBytes;
    assert.ok(sizes > 1);
    sizeBudget.tick();
    assert.equal(sizeBudget.stats().blocks, 0, 'a budget of 1 byte keeps no block');
    sizeBudget.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('compaction merges small blocks; sources left by a crash before their removal are removed at start', () => {
  const dir = tmp();
  try {
    const s = open({ dir, blockMaxSpans: 1_000_000, compactBelowSpans: 1000 });
    const ts = traces(30, 3);
    for (let i = 0; i < 3; i++) {
      s.append(ts.slice(i * 10, i * 10 + 10).flat());
      s.cut();
    }
    const sources = blockFiles(dir);
    assert.equal(sources.length, 3);
    const saved = sources.map((f) => [f, fs.readFileSync(path.join(dir, 'blocks', f))] as const);
    s.tick();
    assert.equal(s.stats().blocks, 1);
    assert.equal(s.stats().blockSpans, ts.flat().length);
    s.stop();
    // As if the process died between writing the merged block and removing its sources.
    for (const [f, b] of saved) fs.writeFileSync(path.join(dir, 'blocks', f), b);
    const again = open({ dir, compactBelowSpans: 0 });
    assert.match(again.repairs.join('\n'), /already merged into a newer block/);
    assert.equal(again.stats().blocks, 1);
    for (const t of ts) assert.equal(again.trace(t[0]!.traceId).length, t.length, 'no span lost or doubled');
    again.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a block with a damaged index is quarantined; a damaged page is skipped and named', () => {
  const dir = tmp();
  try {
    const s = open({ dir, pageMaxSpans: 100, compactBelowSpans: 0 });
    const a = traces(40, 4);
    s.append(a.flat());
    s.cut();
    const b = traces(40, 5, 100);
    s.append(b.flat());
    s.cut();
    s.stop();
    const [fa, fb] = blockFiles(dir) as [string, string];
    // Block a: flip a byte inside its first page (just after the 4-byte magic and page header).
    const pa = path.join(dir, 'blocks', fa);
    const bufA = fs.readFileSync(pa);
    bufA[40] = bufA[40]! ^ 0xff;
    fs.writeFileSync(pa, bufA);
    // Block b: flip a byte of the index, just before the footer.
    const pb = path.join(dir, 'blocks', fb);
    const bufB = fs.readFileSync(pb);
    bufB[bufB.length - 30] = bufB[bufB.length - 30]! ^ 0xff;
    fs.writeFileSync(pb, bufB);
    // verify finds both, read-only.
    const out: string[] = [];
    assert.equal(
      verifyTraces(dir, (l) => out.push(l)),
      1,
    );
    assert.match(out.join('\n'), new RegExp(`blocks/${fa}: page 0 \\(byte \\d+\\): .*checksum mismatch`));
    assert.match(out.join('\n'), new RegExp(`blocks/${fb}: index: index checksum mismatch`));
    assert.match(out.at(-1)!, /^2 problems: 1 WAL segments, 2 blocks/);
    assert.ok(fs.existsSync(pb), 'verify changes nothing');
    const again = open({ dir });
    assert.match(again.repairs.join('\n'), /index checksum mismatch; quarantined/);
    assert.ok(fs.existsSync(`${pb}.corrupt`));
    assert.equal(again.stats().blocks, 1);
    assert.deepEqual(again.trace(a[0]![0]!.traceId), [], 'the trace on the damaged page reads as absent');
    assert.match(again.damagedPages().join('\n'), /page 0: .*checksum mismatch/);
    const intact = a.find((t) => again.trace(t[0]!.traceId).length > 0);
    assert.ok(intact, 'traces on other pages are still read');
    again.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('WAL replay cuts a torn tail and keeps every record before it', () => {
  const dir = tmp();
  try {
    const s = open({ dir });
    const ts = traces(5, 6);
    for (const t of ts) s.append(t);
    s.close();
    const seg = path.join(dir, 'wal', segmentName(listSegments(path.join(dir, 'wal')).at(-1)!));
    const size = fs.statSync(seg).size;
    fs.appendFileSync(seg, Buffer.from([1, 200, 0, 0, 0, 1, 2, 3]));
    const again = open({ dir });
    assert.match(again.repairs.join('\n'), /torn record.*cut the file there/);
    assert.equal(fs.statSync(seg).size, size);
    for (const t of ts) assert.equal(again.trace(t[0]!.traceId).length, t.length);
    again.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('disk full: a failed WAL write is cut back and refused with disk_full; the next append succeeds', () => {
  const dir = tmp();
  let budget = Infinity;
  try {
    const io = {
      writeSync: (fd: number, buf: Uint8Array, off: number, len: number): number => {
        if (budget <= 0) throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
        const n = Math.min(len, budget);
        budget -= n;
        return fs.writeSync(fd, buf, off, n);
      },
    };
    const s = open({ dir, io });
    const [a, b, c] = traces(3, 7) as [Span[], Span[], Span[]];
    s.append(a);
    budget = 100; // the next record is cut part-way
    assert.throws(
      () => s.append(b),
      (e: unknown) => e instanceof StorageError && e.code === 'disk_full',
    );
    assert.match(s.writeProblem() ?? '', /no space left on device/);
    assert.deepEqual(s.trace(b[0]!.traceId), [], 'nothing of a refused append is visible');
    budget = Infinity;
    s.append(c);
    assert.equal(s.writeProblem(), undefined);
    s.close();
    const again = open({ dir });
    assert.deepEqual(again.repairs, [], 'the torn write was cut back: the WAL is whole');
    assert.equal(again.trace(a[0]!.traceId).length, a.length);
    assert.equal(again.trace(b[0]!.traceId).length, 0);
    assert.equal(again.trace(c[0]!.traceId).length, c.length);
    again.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a batch given with its OTLP body is logged as that body and replays into the same spans; a partly refused one is logged as spans', () => {
  const dir = tmp();
  try {
    const s = open({ dir });
    const [a, b, c] = traces(3, 8) as [Span[], Span[], Span[]];
    const protoBody = encodeTracesData(a);
    const fromProto = decodeOtlpTracesProto(protoBody, DEFAULT_TRACE_LIMITS).spans;
    assert.equal(s.append(fromProto, { encoding: 'otlp-protobuf', bytes: protoBody }).accepted, a.length);
    const jsonBody = Buffer.from(JSON.stringify({ resourceSpans: toOtlpJson(b) }));
    const fromJson = decodeOtlpTracesJson(jsonBody.toString('utf8'), DEFAULT_TRACE_LIMITS).spans;
    assert.equal(s.append(fromJson, { encoding: 'otlp-json', bytes: jsonBody }).accepted, b.length);
    // One span an hour ahead of the clock: the store refuses it, so the body is no longer what was kept.
    const future = c.map((sp, i) =>
      i === 1 ? { ...sp, startTimeUnixNano: BigInt(NOW_MS + 3_600_000) * 1_000_000n, endTimeUnixNano: BigInt(NOW_MS + 3_600_001) * 1_000_000n } : sp,
    );
    const cBody = encodeTracesData(future);
    const fromC = decodeOtlpTracesProto(cBody, DEFAULT_TRACE_LIMITS).spans;
    assert.equal(s.append(fromC, { encoding: 'otlp-protobuf', bytes: cBody }).rejected, 1);
    s.close();

    const seg = path.join(dir, 'wal', segmentName(listSegments(path.join(dir, 'wal')).at(-1)!));
    const types: number[] = [];
    scanFrames(
      fs.readFileSync(seg),
      (type) => void types.push(type),
      () => true,
    );
    assert.deepEqual(types, [REC_OTLP, REC_OTLP, REC_SPANS]);

    const again = open({ dir });
    assert.deepEqual(again.repairs, []);
    const bySpan = (x: Span[]): Span[] => [...x].sort((p, q) => (p.spanId < q.spanId ? -1 : 1));
    assert.deepEqual(bySpan(again.trace(a[0]!.traceId)), bySpan(fromProto));
    assert.deepEqual(bySpan(again.trace(b[0]!.traceId)), bySpan(fromJson));
    assert.deepEqual(bySpan(again.trace(c[0]!.traceId)), bySpan(fromC.filter((_, i) => i !== 1)));
    again.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a cut in the background yields to the event loop; appends and reads go on meanwhile and see every span once', async () => {
  const dir = tmp();
  try {
    const s = open({ dir, blockMaxSpans: 1_000_000, pageMaxSpans: 200 });
    const first = traces(6000, 3);
    for (let i = 0; i < first.length; i += 100) s.append(first.slice(i, i + 100).flat());
    const firstSpans = first.reduce((n, t) => n + t.length, 0);
    let loopTurns = 0;
    const ticker = setInterval(() => loopTurns++, 0);
    const cut = s.cutInBackground();
    // The head is frozen at once: a later batch lands in a fresh head while the block is written.
    const later = traces(50, 4, 900);
    s.append(later.flat());
    const probe = first[1234]!;
    assert.equal(s.trace(probe[0]!.traceId).length, probe.length, 'a frozen span is read while its block is written');
    assert.equal(s.stats().headSpans, firstSpans + later.reduce((n, t) => n + t.length, 0));
    await cut;
    clearInterval(ticker);
    assert.ok(loopTurns >= 2, `the event loop ran ${loopTurns} times during the cut`);
    const st = s.stats();
    assert.equal(st.blocks, 1);
    assert.equal(st.blockSpans, firstSpans);
    assert.equal(
      st.headSpans,
      later.reduce((n, t) => n + t.length, 0),
    );
    assert.equal(s.trace(probe[0]!.traceId).length, probe.length, 'and once, from the block, afterwards');
    const found = [...s.search({ start: T0, end: T0 + 3600n * SEC, limit: 100_000 })];
    assert.equal(found.length, first.length + later.length);
    s.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stop() finishes a background cut; close() in the middle of one loses nothing and leaves no temporary file', async () => {
  for (const end of ['stop', 'crash'] as const) {
    const dir = tmp();
    try {
      const s = open({ dir, blockMaxSpans: 1_000_000, pageMaxSpans: 100 });
      const all = traces(3000, 5);
      for (let i = 0; i < all.length; i += 100) s.append(all.slice(i, i + 100).flat());
      const cut = s.cutInBackground();
      await new Promise((resolve) => setImmediate(resolve));
      s.append(traces(10, 6, 900).flat());
      if (end === 'stop') s.stop();
      else s.close();
      await cut;
      assert.deepEqual(
        fs.readdirSync(path.join(dir, 'blocks')).filter((f) => f.endsWith('.tmp')),
        [],
        `${end}: no temporary block file`,
      );
      const again = open({ dir });
      const spans = [...again.search({ start: T0, end: T0 + 3600n * SEC, limit: 100_000 })];
      assert.equal(spans.length, 3010, `${end}: every trace, once`);
      assert.equal(spans.flat().length, new Set(spans.flat().map((sp) => sp.spanId)).size, `${end}: no span twice`);
      again.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('appends faster than a cut can be written in slices do not pile up frozen heads', () => {
  const dir = tmp();
  try {
    const s = open({ dir, blockMaxSpans: 2000, pageMaxSpans: 200 });
    // No turn of the event loop between these appends: the background cut never gets a slice of its own.
    let spans = 0;
    for (const t of traces(3000, 7)) {
      s.append(t);
      spans += t.length;
      assert.ok(s.stats().headSpans <= 2 * 2000 + t.length, `${s.stats().headSpans} spans held in memory`);
    }
    const st = s.stats();
    // All but the head and the one frozen head whose cut is queued are blocks already.
    assert.ok(st.blocks >= Math.floor(spans / 2000) - 2, `${st.blocks} blocks for ${spans} spans`);
    assert.equal(st.blockSpans + st.headSpans, spans);
    s.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
