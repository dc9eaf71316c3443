/**
 * The sender's remote_write 2.0 request (`io.prometheus.write.v2.Request`, spec 2.0-rc.3, the
 * layout ../v2.ts decodes): one symbols table per request (symbols[0] = ''), each series' labels,
 * exemplar labels and metadata strings as references into it. Field numbers:
 *   Request     4 symbols, 5 timeseries
 *   TimeSeries  1 labels_refs (packed), 2 samples, 3 histograms, 4 exemplars, 5 metadata
 *   Sample      1 value (double), 2 timestamp
 *   Exemplar    1 labels_refs (packed), 2 value, 3 timestamp
 *   Metadata    1 type (enum), 3 help_ref, 4 unit_ref
 * A series' created timestamp (TimeSeries 6) is not sent: Vigil's WAL does not keep one.
 */
import type { FloatHistogram } from '../../../core/model/histogram.js';
import type { Labels } from '../../../core/model/labels.js';
import { ByteWriter } from '../../../core/util/bytes.js';
import type { MetricMetadata } from '../../metadata.js';
import { writeHistogramMessage } from '../histogram_proto.js';
import { decodeLabels, putVarint, varintSize, type EncodedLabels } from '../proto.js';
import { METRIC_TYPES, RW2_PROTO } from '../v2.js';
import type { Batch } from './shard.js';

/** The request headers of a 2.0 request (the spec's Content-Type and version). */
export const RW2_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': `application/x-protobuf;proto=${RW2_PROTO}`,
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '2.0.0',
});

/** What a 2.0 receiver says it wrote (the X-Prometheus-Remote-Write-*-Written headers). */
export interface Written {
  samples: number;
  histograms: number;
  exemplars: number;
  /** At least one of the headers was present: a 2.0 receiver answered. */
  confirmed: boolean;
}

/**
 * Reads the written-count headers of a response. A missing header counts 0; `confirmed` says
 * whether any was there (a 1.0 receiver sends none, whatever it did with the request).
 */
export function writtenFrom(headers: Record<string, string | string[] | undefined>): Written {
  const w: Written = { samples: 0, histograms: 0, exemplars: 0, confirmed: false };
  const read = (kind: 'samples' | 'histograms' | 'exemplars'): void => {
    const raw = headers[`x-prometheus-remote-write-${kind}-written`];
    const v = Array.isArray(raw) ? raw[0] : raw;
    if (v === undefined || v === '') return;
    w.confirmed = true;
    const n = Number(v);
    if (Number.isSafeInteger(n) && n >= 0) w[kind] = n;
  };
  read('samples');
  read('histograms');
  read('exemplars');
  return w;
}

const TYPE_NUMBER = new Map<string, number>(METRIC_TYPES.map((t, i) => [t, i]));

export interface V2Exemplar {
  labels: Labels;
  value: number;
  ts: number;
}

/** Builds one request: series are added one by one, `finish` puts the symbols in front. */
export class V2RequestBuilder {
  private readonly symbols = new Map<string, number>([['', 0]]);
  private readonly series = new ByteWriter(16 * 1024);
  /** One TimeSeries message while it is built (its length goes in front of it). */
  private readonly one = new ByteWriter(1024);
  private readonly refs: number[] = [];
  private readonly hist = new ByteWriter(256);

  private ref(s: string): number {
    let r = this.symbols.get(s);
    if (r === undefined) this.symbols.set(s, (r = this.symbols.size));
    return r;
  }

  /** The labels as name/value symbol references, into `refs`. */
  private labelRefs(labels: Labels): number[] {
    const refs = this.refs;
    refs.length = 0;
    for (const l of labels) refs.push(this.ref(l.name), this.ref(l.value));
    return refs;
  }

  /**
   * Adds one TimeSeries: float samples at `idx` of `ts`/`vs`, or (with `hs`) histogram samples;
   * exemplars and metadata optional. The caller never mixes floats and histograms in one call,
   * as the specification requires.
   */
  add(
    labels: Labels,
    samples: { idx: readonly number[]; ts: ArrayLike<number>; vs: ArrayLike<number>; hs?: ReadonlyArray<FloatHistogram | undefined> },
    exemplars: readonly V2Exemplar[] = [],
    metadata?: MetricMetadata,
  ): void {
    const w = this.one;
    w.reset();
    packed(w, 0x0a, this.labelRefs(labels)); // TimeSeries.labels_refs
    for (const i of samples.idx) {
      const t = samples.ts[i]!;
      const h = samples.hs?.[i];
      if (h !== undefined) {
        this.hist.reset();
        writeHistogramMessage(this.hist, h, t);
        w.u8(0x1a); // TimeSeries.histograms
        w.uvarint(this.hist.length);
        w.bytes(this.hist.view());
        continue;
      }
      w.u8(0x12); // TimeSeries.samples
      w.reserve(22);
      w.buf[w.length++] = 10 + varintSize(t);
      w.buf[w.length++] = 0x09; // Sample.value
      w.buf.writeDoubleLE(samples.vs[i]!, w.length);
      w.length += 8;
      w.buf[w.length++] = 0x10; // Sample.timestamp
      w.length = putVarint(w.buf, w.length, t);
    }
    for (const e of exemplars) {
      const refs = this.labelRefs(e.labels);
      let size = 9 + 1 + varintSize(e.ts);
      if (refs.length > 0) size += 1 + varintSize(packedSize(refs)) + packedSize(refs);
      w.u8(0x22); // TimeSeries.exemplars
      w.uvarint(size);
      packed(w, 0x0a, refs); // Exemplar.labels_refs
      w.u8(0x11); // Exemplar.value
      w.f64(e.value);
      w.u8(0x18); // Exemplar.timestamp
      w.reserve(10);
      w.length = putVarint(w.buf, w.length, e.ts);
    }
    if (metadata) {
      const type = TYPE_NUMBER.get(metadata.type) ?? 0;
      const help = this.ref(metadata.help);
      const unit = this.ref(metadata.unit);
      w.u8(0x2a); // TimeSeries.metadata
      w.uvarint(3 + varintSize(type) + varintSize(help) + varintSize(unit));
      w.u8(0x08); // Metadata.type
      w.uvarint(type);
      w.u8(0x18); // Metadata.help_ref
      w.uvarint(help);
      w.u8(0x20); // Metadata.unit_ref
      w.uvarint(unit);
    }
    this.series.u8(0x2a); // Request.timeseries
    this.series.uvarint(w.length);
    this.series.bytes(w.view());
  }

  /** The request: symbols, then the series. A new buffer; the builder may be reused after `reset`. */
  finish(): Buffer {
    const out = new ByteWriter(this.series.length + this.symbols.size * 8 + 64);
    for (const s of this.symbols.keys()) {
      out.u8(0x22); // Request.symbols
      out.str(s);
    }
    out.bytes(this.series.view());
    return out.view();
  }

  reset(): void {
    this.symbols.clear();
    this.symbols.set('', 0);
    this.series.reset();
  }
}

function packedSize(xs: readonly number[]): number {
  let n = 0;
  for (const x of xs) n += varintSize(x);
  return n;
}

/** A packed repeated uint32 field (nothing when empty). */
function packed(w: ByteWriter, tag: number, xs: readonly number[]): void {
  if (xs.length === 0) return;
  w.u8(tag);
  w.uvarint(packedSize(xs));
  for (const x of xs) w.uvarint(x);
}

/** What a v2 batch request holds, for matching it with the written-count headers. */
export interface V2Counts {
  samples: number;
  histograms: number;
}

/**
 * Encodes a batch of the WAL as a 2.0 request: samples grouped by series in the order the series
 * first appear (floats and histograms of a series in separate TimeSeries), each with its family's
 * metadata when known.
 */
export function encodeBatchV2(
  batch: Batch,
  labelsOf: (ref: number) => EncodedLabels,
  metadataOf: (name: string) => MetricMetadata | undefined,
  builder = new V2RequestBuilder(),
): { body: Buffer; counts: V2Counts } {
  const { refs, ts, vs, hs } = batch;
  const floats = new Map<number, number[]>();
  const hists = new Map<number, number[]>();
  let histograms = 0;
  for (let i = 0; i < refs.length; i++) {
    const isH = hs?.[i] !== undefined;
    if (isH) histograms++;
    const m = isH ? hists : floats;
    const g = m.get(refs[i]!);
    if (g) g.push(i);
    else m.set(refs[i]!, [i]);
  }
  builder.reset();
  for (const m of [floats, hists])
    for (const [ref, idx] of m) {
      const enc = labelsOf(ref).bytes;
      const labels = decodeLabels(enc, 0, enc.length);
      const name = labels.find((l) => l.name === '__name__')?.value;
      builder.add(labels, { idx, ts, vs, ...(hs ? { hs } : {}) }, [], name === undefined ? undefined : metadataOf(name));
    }
  return { body: builder.finish(), counts: { samples: refs.length - histograms, histograms } };
}

const FAMILY_SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_info', '_gcount', '_gsum'];

/** A series' metadata from its family's: the series name itself, or without a sample-type suffix (`_bucket`, `_total`…). */
export function familyMetadata(byFamily: ReadonlyMap<string, MetricMetadata>, name: string): MetricMetadata | undefined {
  const md = byFamily.get(name);
  if (md) return md;
  for (const s of FAMILY_SUFFIXES) if (name.endsWith(s)) return byFamily.get(name.slice(0, -s.length));
  return undefined;
}

/** What came of a settled 2.0 request: how many of what it carried were not written, and why. */
export interface V2Outcome {
  failed: number;
  problem?: string;
}

const USE_V1 = 'set protobuf_message: prometheus.WriteRequest for this receiver';

/**
 * Judges a 2.0 response that settles a request (2xx, or a 4xx that is not retried) carrying `sent`
 * elements of one kind, as Prometheus 3 does: elements the receiver does not confirm are failed.
 * A 415, and a 2xx without any written-count header (the specification says to take it as a 415:
 * a 1.0 receiver that ignores Content-Type decodes a 2.0 request as an empty 1.0 one and answers
 * 2xx), mean the receiver does not speak 2.0: everything failed, and the log says what to change.
 */
export function v2Outcome(status: number, written: Written, kind: 'samples' | 'exemplars', sent: number): V2Outcome {
  const got = kind === 'samples' ? written.samples + written.histograms : written.exemplars;
  if (status === 415) return { failed: sent, problem: `the receiver does not accept remote_write 2.0 (415 Unsupported Media Type); ${USE_V1}` };
  if (status >= 200 && status < 300) {
    if (!written.confirmed && sent > 0)
      return {
        failed: sent,
        problem: `the receiver answered ${status} without X-Prometheus-Remote-Write-*-Written headers: it is not a remote_write 2.0 receiver and most likely wrote nothing; ${USE_V1}`,
      };
    if (got < sent) return { failed: sent - got, problem: `the receiver answered ${status} but wrote ${got} of ${sent} ${kind}` };
    return { failed: 0 };
  }
  return { failed: written.confirmed ? Math.max(0, sent - got) : sent };
}
