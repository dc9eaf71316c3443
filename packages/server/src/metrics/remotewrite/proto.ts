/**
 * Prometheus remote_write 1.0 protobuf messages (WriteRequest, TimeSeries, Label, Sample,
 * MetricMetadata), decoded by hand straight from the request buffer: label bytes are handed out raw
 * so the receiver can find a known series by them before decoding any string, and samples are read
 * without making an object per sample.
 */
import { intern, type Label, type Labels } from '../../core/model/labels.js';
import { VigilError } from '../../core/errors.js';
import type { ProtoFields } from '../../core/otlp/protobuf.js';

/** A malformed protobuf message. */
export class ProtoError extends VigilError {
  override readonly code = 'bad_protobuf' as const;
  constructor(message: string, options?: ErrorOptions) {
    super('bad_protobuf', message, options);
  }
}

/** Receives a decoded WriteRequest, one series at a time. */
export interface WriteRequestSink {
  /**
   * A series begins. `buf[start, end)` holds its encoded Label fields, or `labels` is set when they
   * were not contiguous. Returns a handle that is passed back with each of its samples.
   */
  series(buf: Buffer, start: number, end: number, labels: Labels | undefined): number;
  sample(handle: number, t: number, v: number): void;
  /** Metric metadata, when the sender includes it. */
  metadata?(family: string, type: string, help: string, unit: string): void;
  /**
   * An exemplar (TimeSeries field 3) of the series `handle` returned by {@link series}, or, when the
   * TimeSeries carried no samples (Prometheus sends exemplars in TimeSeries of their own), of
   * `seriesLabels` with `handle` -1. Without this method exemplars are counted as unsupported.
   */
  exemplar?: ((handle: number, seriesLabels: Labels | undefined, labels: Labels, value: number, ts: number) => void) | undefined;
  /**
   * A native histogram (TimeSeries field 4, a `Histogram` message at `buf[start, end)`) of the
   * series `handle`, after the series' float samples. Without this method histograms are counted
   * as unsupported.
   */
  histogram?: ((handle: number, buf: Buffer, start: number, end: number) => void) | undefined;
  /** A TimeSeries carried native histograms or exemplars the sink does not take. */
  unsupported?(what: 'histograms' | 'exemplars', count: number): void;
}

const METRIC_TYPES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const;
const TWO_32 = 4294967296;

/** Decoding cursor over one message; `pos` advances as fields are read. */
export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let b = buf[pos++]!;
    if (b < 0x80 && pos <= this.end) {
      this.pos = pos;
      return b;
    }
    let x = b & 0x7f;
    let mul = 128;
    for (let i = 1; i < 10; i++) {
      if (pos >= this.end) throw new ProtoError('truncated varint');
      b = buf[pos++]!;
      if (i === 9 && b > 1) throw new ProtoError('varint overflows 64 bits');
      x += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        // A 10-byte varint (or one that sets bit 63) is a negative int64 in two's complement.
        return x >= 2 ** 63 ? x - 2 ** 64 : x;
      }
      mul *= 128;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  /** Returns [start, end) of a length-delimited field's bytes. */
  bytes(): number {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw new ProtoError(`field length ${len} runs past the end of the message`);
    this.pos = start + len;
    return start;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.need(8);
        this.pos += 8;
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtoError(`unsupported wire type ${wireType}`);
    }
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw new ProtoError('truncated field');
  }
}

function utf8(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf8', start, end);
}

/** Decodes the Label messages in `buf[start, end)` (as handed to {@link WriteRequestSink.series}). */
export function decodeLabels(buf: Buffer, start: number, end: number): Labels {
  const out: Label[] = [];
  const r = new ProtoReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.varint();
    if (tag !== 0x0a) throw new ProtoError(`unexpected field ${tag >>> 3} among labels`);
    const ms = r.bytes();
    out.push(decodeLabel(buf, ms, r.pos));
  }
  return out;
}

function decodeLabel(buf: Buffer, start: number, end: number): Label {
  const r = new ProtoReader(buf, start, end);
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x0a) {
      const s = r.bytes();
      name = intern(utf8(buf, s, r.pos));
    } else if (tag === 0x12) {
      const s = r.bytes();
      value = intern(utf8(buf, s, r.pos));
    } else r.skip(tag & 7);
  }
  return { name, value };
}

// Sample field spans of the series being decoded, reused across series.
let sampleSpans = new Int32Array(64);
// Exemplar field spans likewise: [start, end) pairs; exemplars are few, a plain array does.
const exemplarSpans: number[] = [];
// Histogram field spans likewise.
const histogramSpans: number[] = [];

/** Decodes a WriteRequest, feeding `sink`. Throws {@link ProtoError} on malformed input. */
export function decodeWriteRequest(buf: Buffer, sink: WriteRequestSink): void {
  const r = new ProtoReader(buf, 0, buf.length);
  while (r.pos < r.end) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 2) {
      const s = r.bytes();
      decodeTimeSeries(buf, s, r.pos, sink);
    } else if (field === 3 && wt === 2) {
      const s = r.bytes();
      decodeMetadata(buf, s, r.pos, sink);
    } else if (field === 0) throw new ProtoError('invalid field number 0');
    else r.skip(wt);
  }
}

function decodeTimeSeries(buf: Buffer, start: number, end: number, sink: WriteRequestSink): void {
  const r = new ProtoReader(buf, start, end);
  let labelsStart = -1;
  let labelsEnd = -1;
  let contiguous = true;
  let nSpans = 0;
  let histograms = 0;
  let exemplars = 0;
  // Cleared only when used: setting an array's length costs a runtime call, once per series.
  if (exemplarSpans.length > 0) exemplarSpans.length = 0;
  if (histogramSpans.length > 0) histogramSpans.length = 0;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const tag = r.varint();
    if (tag === 0x0a) {
      r.bytes();
      if (labelsStart < 0) labelsStart = fieldStart;
      else if (labelsEnd !== fieldStart) contiguous = false;
      labelsEnd = r.pos;
    } else if (tag === 0x12) {
      const s = r.bytes();
      if (nSpans * 2 + 2 > sampleSpans.length) {
        const grown = new Int32Array(sampleSpans.length * 2);
        grown.set(sampleSpans);
        sampleSpans = grown;
      }
      sampleSpans[nSpans * 2] = s;
      sampleSpans[nSpans * 2 + 1] = r.pos;
      nSpans++;
    } else if (tag === 0x1a && sink.exemplar) {
      const s = r.bytes();
      exemplarSpans.push(s, r.pos);
    } else if (tag === 0x22 && sink.histogram) {
      const s = r.bytes();
      histogramSpans.push(s, r.pos);
    } else {
      if (tag === 0x1a) exemplars++;
      else if (tag === 0x22) histograms++;
      else if (tag >>> 3 === 0) throw new ProtoError('invalid field number 0');
      r.skip(tag & 7);
    }
  }
  if (histograms) sink.unsupported?.('histograms', histograms);
  if (exemplars) sink.unsupported?.('exemplars', exemplars);
  if (nSpans === 0 && histogramSpans.length === 0) {
    if (exemplarSpans.length === 0) return;
    // Exemplars alone: no sample handle, the series' labels go with each exemplar.
    const seriesLabels = labelsStart < 0 ? [] : contiguous ? decodeLabels(buf, labelsStart, labelsEnd) : collectLabels(buf, start, end);
    decodeExemplars(buf, -1, seriesLabels, sink);
    return;
  }
  let labels: Labels | undefined;
  if (labelsStart < 0) {
    labelsStart = labelsEnd = start;
    labels = [];
  } else if (!contiguous) {
    labels = collectLabels(buf, start, end);
  }
  const handle = sink.series(buf, labelsStart, labelsEnd, labels);
  for (let i = 0; i < nSpans; i++) decodeSample(buf, sampleSpans[i * 2]!, sampleSpans[i * 2 + 1]!, handle, sink);
  for (let k = 0; k < histogramSpans.length; k += 2) sink.histogram!(handle, buf, histogramSpans[k]!, histogramSpans[k + 1]!);
  if (exemplarSpans.length > 0) decodeExemplars(buf, handle, undefined, sink);
}

/** Decodes the Exemplar messages whose spans are in {@link exemplarSpans}: labels (1), value (2), timestamp (3). */
function decodeExemplars(buf: Buffer, handle: number, seriesLabels: Labels | undefined, sink: WriteRequestSink): void {
  const spans = exemplarSpans;
  for (let k = 0; k < spans.length; k += 2) {
    const start = spans[k]!;
    const end = spans[k + 1]!;
    const r = new ProtoReader(buf, start, end);
    const labels: Label[] = [];
    let v = 0;
    let t = 0;
    while (r.pos < end) {
      const tag = r.varint();
      if (tag === 0x0a) {
        const s = r.bytes();
        labels.push(decodeLabel(buf, s, r.pos));
      } else if (tag === 0x11) {
        r.need(8);
        v = buf.readDoubleLE(r.pos);
        r.pos += 8;
      } else if (tag === 0x18) t = r.varint();
      else if (tag >>> 3 === 0) throw new ProtoError('invalid field number 0');
      else r.skip(tag & 7);
    }
    labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    sink.exemplar!(handle, seriesLabels, labels, v, t);
  }
}

function collectLabels(buf: Buffer, start: number, end: number): Labels {
  const out: Label[] = [];
  const r = new ProtoReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x0a) {
      const s = r.bytes();
      out.push(decodeLabel(buf, s, r.pos));
    } else r.skip(tag & 7);
  }
  return out;
}

/** Reads a varint at `pos` known to end before `end`; returns the value, leaving the end in `varintEnd`. */
let varintEnd = 0;
function varintAt(buf: Buffer, pos: number, end: number): number {
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 10 && pos < end; i++) {
    const b = buf[pos++]!;
    x += (b & 0x7f) * mul;
    if (b < 0x80) {
      varintEnd = pos;
      return x >= 2 ** 63 ? x - 2 ** 64 : x;
    }
    mul *= 128;
  }
  throw new ProtoError('truncated varint');
}

function decodeSample(buf: Buffer, start: number, end: number, handle: number, sink: WriteRequestSink): void {
  // The common encoding is exactly [0x09 f64][0x10 varint]; take it without a general loop.
  if (buf[start] === 0x09 && start + 10 < end && buf[start + 9] === 0x10) {
    const t = varintAt(buf, start + 10, end);
    if (varintEnd === end) {
      sink.sample(handle, t, buf.readDoubleLE(start + 1));
      return;
    }
  }
  let v = 0;
  let t = 0;
  const r = new ProtoReader(buf, start, end);
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x09) {
      r.need(8);
      v = buf.readDoubleLE(r.pos);
      r.pos += 8;
    } else if (tag === 0x10) t = r.varint();
    else if (tag >>> 3 === 0) throw new ProtoError('invalid field number 0');
    else r.skip(tag & 7);
  }
  sink.sample(handle, t, v);
}

function decodeMetadata(buf: Buffer, start: number, end: number, sink: WriteRequestSink): void {
  const r = new ProtoReader(buf, start, end);
  let type = 0;
  let family = '';
  let help = '';
  let unit = '';
  while (r.pos < end) {
    const tag = r.varint();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === 0) type = r.varint();
    else if ((tag & 7) === 2 && (field === 2 || field === 4 || field === 5)) {
      const s = r.bytes();
      const str = utf8(buf, s, r.pos);
      if (field === 2) family = str;
      else if (field === 4) help = str;
      else unit = str;
    } else if (field === 0) throw new ProtoError('invalid field number 0');
    else r.skip(tag & 7);
  }
  sink.metadata?.(family, METRIC_TYPES[type] ?? 'unknown', help, unit);
}

// ---- Encoding, for senders (the benchmark, tests and remote_write to another store) ----

/** Bytes of `x` as a protobuf varint (int64: 10 for negatives). */
export function varintSize(x: number): number {
  if (x < 0) return 10;
  let n = 1;
  while (x >= 128) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}

/**
 * A label set already encoded as the Label fields of a TimeSeries, for senders that repeat series:
 * bytes [offset, offset + length) of `page`. Kept as a place rather than a Buffer view, which would
 * cost about 90 bytes more per series.
 */
export class EncodedLabels {
  constructor(
    private readonly page: Buffer,
    private readonly offset: number,
    readonly length: number,
  ) {}

  /** The bytes, as a view (made on each call: for occasional use). */
  get bytes(): Buffer {
    return this.page.subarray(this.offset, this.offset + this.length);
  }

  /** Copies the bytes into `buf` at `p`; returns how many. */
  copyTo(buf: Buffer, p: number): number {
    return this.page.copy(buf, p, this.offset, this.offset + this.length);
  }
}

/** Bytes of a label set encoded as TimeSeries Label fields (tags included). */
function encodedLabelsSize(labels: Labels): number {
  let size = 0;
  for (const l of labels) {
    const n = Buffer.byteLength(l.name);
    const v = Buffer.byteLength(l.value);
    const inner = 1 + varintSize(n) + n + 1 + varintSize(v) + v;
    size += 1 + varintSize(inner) + inner;
  }
  return size;
}

/** Writes `labels` as TimeSeries Label fields into `b` from 0 (exactly {@link encodedLabelsSize} bytes). */
function writeEncodedLabels(labels: Labels, b: Buffer): void {
  let p = 0;
  for (const l of labels) {
    const n = Buffer.byteLength(l.name);
    const v = Buffer.byteLength(l.value);
    b[p++] = 0x0a;
    p = putVarint(b, p, 1 + varintSize(n) + n + 1 + varintSize(v) + v);
    b[p++] = 0x0a;
    p = putVarint(b, p, n);
    p += b.write(l.name, p, 'utf8');
    b[p++] = 0x12;
    p = putVarint(b, p, v);
    p += b.write(l.value, p, 'utf8');
  }
}

/** Encodes a sorted label set once, so a sender can reuse it in every request. */
export function encodeLabels(labels: Labels): EncodedLabels {
  const b = Buffer.allocUnsafe(encodedLabelsSize(labels));
  writeEncodedLabels(labels, b);
  return new EncodedLabels(b, 0, b.length);
}

const LABEL_PAGE_BYTES = 64 * 1024;

/**
 * Encodes label sets that live as long as their series (a sender's series by ref) packed into
 * pages of their own. Buffer's shared pool would interleave them with short-lived buffers, and
 * one live label set keeps its whole 8 KiB pool slab alive: at 40,000 series that was about 16 MiB
 * held for 4 MiB of labels.
 */
export class LabelsPacker {
  private page = Buffer.allocUnsafeSlow(LABEL_PAGE_BYTES);
  private pos = 0;

  encode(labels: Labels): EncodedLabels {
    const size = encodedLabelsSize(labels);
    if (size > LABEL_PAGE_BYTES / 8) return encodeLabels(labels);
    if (this.pos + size > this.page.length) {
      this.page = Buffer.allocUnsafeSlow(LABEL_PAGE_BYTES);
      this.pos = 0;
    }
    const offset = this.pos;
    this.pos += size;
    writeEncodedLabels(labels, this.page.subarray(offset, this.pos));
    return new EncodedLabels(this.page, offset, size);
  }
}

/** An exemplar for {@link WriteRequestEncoder.addSeries}. */
export interface EncoderExemplar {
  readonly labels: Labels;
  readonly value: number;
  readonly ts: number;
}

/** One Exemplar field (TimeSeries field 3), tag included. */
function encodeExemplar(e: EncoderExemplar): Buffer {
  const lb = encodeLabels(e.labels).bytes;
  const inner = lb.length + 9 + 1 + varintSize(e.ts);
  const buf = Buffer.allocUnsafe(1 + varintSize(inner) + inner);
  let p = 0;
  buf[p++] = 0x1a;
  p = putVarint(buf, p, inner);
  p += lb.copy(buf, p);
  buf[p++] = 0x11;
  buf.writeDoubleLE(e.value, p);
  p += 8;
  buf[p++] = 0x18;
  p = putVarint(buf, p, e.ts);
  return buf;
}

/** Builds a WriteRequest message in one buffer. */
export class WriteRequestEncoder {
  private parts: Buffer[] = [];
  private size = 0;

  /** Adds a TimeSeries with its samples and exemplars; labels must already be sorted. */
  addSeries(labels: Labels | EncodedLabels, ts: ArrayLike<number>, vs: ArrayLike<number>, exemplars: readonly EncoderExemplar[] = []): void {
    const lb = labels instanceof EncodedLabels ? labels.bytes : encodeLabels(labels).bytes;
    const ex = exemplars.map(encodeExemplar);
    let body = lb.length;
    for (const e of ex) body += e.length;
    for (let i = 0; i < ts.length; i++) {
      const inner = 9 + 1 + varintSize(ts[i]!);
      body += 1 + varintSize(inner) + inner;
    }
    const buf = Buffer.allocUnsafe(1 + varintSize(body) + body);
    let p = 0;
    buf[p++] = 0x0a;
    p = putVarint(buf, p, body);
    p += lb.copy(buf, p);
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      buf[p++] = 0x12;
      p = putVarint(buf, p, 9 + 1 + varintSize(t));
      buf[p++] = 0x09;
      buf.writeDoubleLE(vs[i]!, p);
      p += 8;
      buf[p++] = 0x10;
      p = putVarint(buf, p, t);
    }
    for (const e of ex) p += e.copy(buf, p);
    this.parts.push(buf);
    this.size += buf.length;
  }

  /** Adds a MetricMetadata entry. */
  addMetadata(family: string, type: (typeof METRIC_TYPES)[number], help: string, unit = ''): void {
    const strs: Array<[number, Buffer]> = [
      [0x12, Buffer.from(family)],
      [0x22, Buffer.from(help)],
      [0x2a, Buffer.from(unit)],
    ];
    let body = 2;
    for (const [, b] of strs) body += 1 + varintSize(b.length) + b.length;
    const buf = Buffer.allocUnsafe(1 + varintSize(body) + body);
    let p = 0;
    buf[p++] = 0x1a;
    p = putVarint(buf, p, body);
    buf[p++] = 0x08;
    buf[p++] = METRIC_TYPES.indexOf(type);
    for (const [tag, b] of strs) {
      buf[p++] = tag;
      p = putVarint(buf, p, b.length);
      p += b.copy(buf, p);
    }
    this.parts.push(buf);
    this.size += buf.length;
  }

  /** The encoded message; the encoder is empty afterwards. */
  finish(): Buffer {
    const out = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return out;
  }
}

/** Writes a varint (int64 two's complement for negatives); returns the new position. */
export function putVarint(buf: Buffer, p: number, x: number): number {
  if (x < 0) {
    // Negative int64: the two's complement as a 64-bit unsigned, split into 32-bit words.
    let hi = Math.floor(x / TWO_32);
    let lo = x - hi * TWO_32;
    hi = hi >>> 0;
    for (let i = 0; i < 9; i++) {
      buf[p++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi = hi >>> 7;
    }
    buf[p++] = lo & 1;
    return p;
  }
  while (x >= 0x80) {
    buf[p++] = (x % 128) | 0x80;
    x = Math.floor(x / 128);
  }
  buf[p++] = x;
  return p;
}

/**
 * Reads Prometheus' `Label` message (name 1, value 2): the same in remote_write, remote_read and
 * the protobuf exposition format's `LabelPair`.
 */
export function readLabelPair(f: ProtoFields): Label {
  let name = '';
  let value = '';
  while (f.next()) {
    if (f.field === 1) name = f.string('name');
    else if (f.field === 2) value = f.string('value');
    else f.skip();
  }
  return { name, value };
}
