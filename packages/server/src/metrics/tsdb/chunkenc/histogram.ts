/**
 * Native-histogram chunks for blocks, Vigil's own encoding after the ideas of Prometheus' histogram
 * chunks: a 2-byte sample count, then a bit stream. Timestamps are delta-of-delta as in the float
 * chunks. Each sample has its counter-reset hint (2 bits) and, when its layout (schema, zero
 * threshold, spans, custom bounds) differs from the previous sample's, the layout. Its values are
 * streams: the count, the zero count and one per bucket, each against the same bucket of the
 * previous sample (0 for a bucket that is new), and the sum.
 *
 * A chunk whose counts are all integers (what integer histograms and scrapes give) writes each
 * count stream in varbit classes, as its change or as the change of its change (whichever makes
 * the smaller chunk: a bucket that grows steadily costs a bit either way the second, one that gets
 * a few observations now and then the first); other chunks XOR the counts as floats. The sum is
 * always XOR-coded, so a staleness marker in it comes back bit for bit.
 */
import { FloatHistogram, type Span } from '../../../core/model/histogram.js';
import type { SampleIterator } from '../../storage/interface.js';
import { BitReader, BitWriter } from './bitstream.js';
import { ForwardChunkIterator } from './iterator.js';
import { readDod, readInt64, readVarbit, writeDod, writeInt64, writeVarbit } from './varbits.js';
import { newXorWindow, readXorValue, writeXorValue, type XorWindow } from './xorvalue.js';
import { hintCode, HINTS } from '../wal_histogram.js';

/** Bytes of the sample-count header in front of the bit stream. */
const HEADER_BYTES = 2;
/** Integer streams hold counts below this, so a change of a change stays within 53 bits. */
const INTEGER_LIMIT = 2 ** 50;
/** Added to the schema (−53…8) to store it unsigned in 7 bits. */
const SCHEMA_BIAS = 64;

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer);

/** How a chunk codes its count streams (2 bits after the sample count). */
const Mode = { float: 0, delta: 1, deltaOfDelta: 2 } as const;
type Mode = (typeof Mode)[keyof typeof Mode];

/** One value stream: the previous value and change (integer chunks) or XOR state (float chunks). */
interface Stream extends XorWindow {
  v: number;
  delta: number;
}

function newStream(): Stream {
  return { ...newXorWindow(), v: 0, delta: 0 };
}

function isIntegerCount(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) < INTEGER_LIMIT && !Object.is(x, -0);
}

/** True when every count of every sample can go into integer streams. */
function allIntegers(hs: readonly FloatHistogram[], n: number): boolean {
  for (let i = 0; i < n; i++) {
    const h = hs[i]!;
    if (!isIntegerCount(h.count) || !isIntegerCount(h.zeroCount)) return false;
    for (const b of h.positiveBuckets) if (!isIntegerCount(b)) return false;
    for (const b of h.negativeBuckets) if (!isIntegerCount(b)) return false;
  }
  return true;
}

function sameSpans(a: readonly Span[], b: readonly Span[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.offset !== b[i]!.offset || a[i]!.length !== b[i]!.length) return false;
  return true;
}

function sameLayout(a: FloatHistogram, b: FloatHistogram): boolean {
  if (a.schema !== b.schema || !Object.is(a.zeroThreshold, b.zeroThreshold)) return false;
  if (!sameSpans(a.positiveSpans, b.positiveSpans) || !sameSpans(a.negativeSpans, b.negativeSpans)) return false;
  const x = a.customValues;
  const y = b.customValues;
  if (x === y) return true;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

function writeFloat(w: BitWriter, x: number): void {
  f64[0] = x;
  w.writeBits(words[1]!, 32);
  w.writeBits(words[0]!, 32);
}

function readFloat(r: BitReader): number {
  words[1] = r.readBits(32);
  words[0] = r.readBits(32);
  return f64[0]!;
}

function writeSpans(w: BitWriter, spans: readonly Span[]): void {
  writeVarbit(w, spans.length);
  for (const s of spans) {
    writeVarbit(w, s.offset);
    writeVarbit(w, s.length);
  }
}

function readSpans(r: BitReader): Span[] {
  const n = readVarbit(r);
  if (n < 0 || n > r.remaining) throw new RangeError(`histogram chunk claims ${n} spans`);
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const offset = readVarbit(r);
    const length = readVarbit(r);
    if (length < 0 || length > r.remaining) throw new RangeError(`histogram chunk claims a span of ${length} buckets`);
    spans.push({ offset, length });
  }
  return spans;
}

/** The layout of a sample: what the streams of its buckets are keyed by. */
interface Layout {
  schema: number;
  zeroThreshold: number;
  positiveSpans: readonly Span[];
  negativeSpans: readonly Span[];
  customValues: readonly number[];
}

function writeLayout(w: BitWriter, h: Layout): void {
  w.writeBits(h.schema + SCHEMA_BIAS, 7);
  writeFloat(w, h.zeroThreshold);
  writeSpans(w, h.positiveSpans);
  writeSpans(w, h.negativeSpans);
  writeVarbit(w, h.customValues.length);
  for (const v of h.customValues) writeFloat(w, v);
}

function readLayout(r: BitReader): Layout {
  const schema = r.readBits(7) - SCHEMA_BIAS;
  const zeroThreshold = readFloat(r);
  const positiveSpans = readSpans(r);
  const negativeSpans = readSpans(r);
  const nc = readVarbit(r);
  if (nc < 0 || nc * 64 > r.remaining) throw new RangeError(`histogram chunk claims ${nc} custom bounds`);
  const customValues = new Array<number>(nc);
  for (let i = 0; i < nc; i++) customValues[i] = readFloat(r);
  return { schema, zeroThreshold, positiveSpans, negativeSpans, customValues };
}

/** Absolute bucket indexes of a span list, in bucket order. */
function indexesOf(spans: readonly Span[]): number[] {
  const out: number[] = [];
  let idx = 0;
  for (const s of spans) {
    idx += s.offset;
    for (let k = 0; k < s.length; k++) out.push(idx++);
  }
  return out;
}

/**
 * The bucket streams for a new layout: a bucket the previous layout had keeps its stream (by sign
 * and absolute index), a new one starts from 0. Streams 0 and 1 are the count and the zero count.
 */
function restream(prev: Stream[], prevLayout: Layout | undefined, next: Layout): Stream[] {
  const byIndex = new Map<string, Stream>();
  if (prevLayout) {
    let k = 2;
    for (const i of indexesOf(prevLayout.positiveSpans)) byIndex.set(`p${i}`, prev[k++]!);
    for (const i of indexesOf(prevLayout.negativeSpans)) byIndex.set(`n${i}`, prev[k++]!);
  }
  const out = [prev[0] ?? newStream(), prev[1] ?? newStream()];
  for (const i of indexesOf(next.positiveSpans)) out.push(byIndex.get(`p${i}`) ?? newStream());
  for (const i of indexesOf(next.negativeSpans)) out.push(byIndex.get(`n${i}`) ?? newStream());
  return out;
}

function writeValue(w: BitWriter, s: Stream, x: number, mode: Mode): void {
  if (mode !== Mode.float) {
    const delta = x - s.v;
    writeVarbit(w, mode === Mode.delta ? delta : delta - s.delta);
    s.delta = delta;
    s.v = x;
    return;
  }
  f64[0] = x;
  writeXorValue(w, s, words[1]!, words[0]!);
}

function readValue(r: BitReader, s: Stream, mode: Mode): number {
  if (mode !== Mode.float) {
    s.delta = mode === Mode.delta ? readVarbit(r) : s.delta + readVarbit(r);
    s.v += s.delta;
    return s.v;
  }
  readXorValue(r, s);
  words[1] = s.hi;
  words[0] = s.lo;
  return f64[0]!;
}

/** Encodes the first `n` samples (time-ordered) as a histogram chunk: count header and bit stream. */
export function encodeHistogramChunk(ts: readonly number[], hs: readonly FloatHistogram[], n: number): Uint8Array {
  if (n > 0xffff) throw new RangeError(`a histogram chunk holds at most 65535 samples, not ${n}`);
  if (!allIntegers(hs, n)) return encodeWith(ts, hs, n, Mode.float);
  const a = encodeWith(ts, hs, n, Mode.delta);
  const b = encodeWith(ts, hs, n, Mode.deltaOfDelta);
  return b.length < a.length ? b : a;
}

function encodeWith(ts: readonly number[], hs: readonly FloatHistogram[], n: number, mode: Mode): Uint8Array {
  const w = new BitWriter(64 + n * 16);
  w.writeBits(n, HEADER_BYTES * 8);
  w.writeBits(mode, 2);
  let streams: Stream[] = [];
  let layout: FloatHistogram | undefined;
  const sum = newStream();
  let prevT = 0;
  let prevDelta = 0;
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    const h = hs[i]!;
    if (i === 0) writeInt64(w, t);
    else {
      const delta = t - prevT;
      writeDod(w, delta - prevDelta);
      prevDelta = delta;
    }
    prevT = t;
    w.writeBits(hintCode(h.counterResetHint), 2);
    const changed = layout === undefined || !sameLayout(layout, h);
    if (i > 0) w.writeBit(changed ? 1 : 0);
    if (changed) {
      writeLayout(w, h);
      streams = restream(streams, layout, h);
      layout = h;
    }
    writeValue(w, streams[0]!, h.count, mode);
    writeValue(w, streams[1]!, h.zeroCount, mode);
    let k = 2;
    for (const b of h.positiveBuckets) writeValue(w, streams[k++]!, b, mode);
    for (const b of h.negativeBuckets) writeValue(w, streams[k++]!, b, mode);
    writeValue(w, sum, h.sum, Mode.float);
  }
  return w.finish();
}

/** Samples in a histogram chunk. */
export function histogramChunkSampleCount(chunk: Uint8Array): number {
  return (chunk[0]! << 8) | chunk[1]!;
}

/** Iterates a histogram chunk; `v()` is NaN and `h()` the histogram, as for the head's histogram chunks. */
export class HistogramChunkDecoder extends ForwardChunkIterator implements SampleIterator {
  private readonly r: BitReader;
  private readonly total: number;
  private mode: Mode = Mode.float;
  private delta = 0;
  private layout: Layout | undefined;
  private streams: Stream[] = [];
  private readonly sum = newStream();
  private cur: FloatHistogram | undefined;

  constructor(bytes: Uint8Array) {
    super();
    this.r = new BitReader(bytes, HEADER_BYTES * 8);
    this.total = histogramChunkSampleCount(bytes);
  }

  next(): boolean {
    if (this.read >= this.total) return false;
    const r = this.r;
    if (this.read === 0) {
      const mode = r.readBits(2);
      if (mode > Mode.deltaOfDelta) throw new RangeError(`unknown histogram chunk mode ${mode}`);
      this.mode = mode as Mode;
      this.curT = readInt64(r);
    } else {
      this.delta += readDod(r);
      this.curT += this.delta;
    }
    const counterResetHint = HINTS[r.readBits(2)]!;
    if (this.read === 0 || r.readBit() === 1) {
      const next = readLayout(r);
      this.streams = restream(this.streams, this.layout, next);
      this.layout = next;
    }
    const layout = this.layout!;
    const streams = this.streams;
    const count = readValue(r, streams[0]!, this.mode);
    const zeroCount = readValue(r, streams[1]!, this.mode);
    const np = streams.length - 2 - indexesCount(layout.negativeSpans);
    const positiveBuckets = new Array<number>(np);
    for (let k = 0; k < np; k++) positiveBuckets[k] = readValue(r, streams[2 + k]!, this.mode);
    const negativeBuckets = new Array<number>(streams.length - 2 - np);
    for (let k = 0; k < negativeBuckets.length; k++) negativeBuckets[k] = readValue(r, streams[2 + np + k]!, this.mode);
    const sum = readValue(r, this.sum, Mode.float);
    this.cur = FloatHistogram.of({ ...layout, counterResetHint, count, zeroCount, sum, positiveBuckets, negativeBuckets });
    this.read++;
    return true;
  }

  v(): number {
    return NaN;
  }

  h(): FloatHistogram | undefined {
    return this.cur;
  }
}

function indexesCount(spans: readonly Span[]): number {
  let n = 0;
  for (const s of spans) n += s.length;
  return n;
}
