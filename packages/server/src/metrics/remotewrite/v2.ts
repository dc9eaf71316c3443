/**
 * Prometheus remote_write 2.0 (`io.prometheus.write.v2.Request`): a symbols table (symbols[0] is
 * always ''), series whose labels are pairs of references into it, samples, native histograms,
 * exemplars, metadata (type, help and unit references) and a created timestamp. Decoded with the
 * shared protobuf field reader into plain arrays; ./receiver.ts appends them.
 *
 * Field numbers (prometheus/prompb/io/prometheus/write/v2/types.proto):
 *   Request     4 symbols (repeated string), 5 timeseries
 *   TimeSeries  1 labels_refs (packed uint32), 2 samples, 3 histograms, 4 exemplars, 5 metadata,
 *               6 created_timestamp (int64)
 *   Sample      1 value (double), 2 timestamp (int64)
 *   Histogram   as remote_write 1.0's (./histogram_decode.ts)
 *   Exemplar    1 labels_refs, 2 value, 3 timestamp
 *   Metadata    1 type (enum), 3 help_ref, 4 unit_ref
 */
import { sortLabels, type Label, type Labels } from '../../core/model/labels.js';
import { ProtoFields } from '../../core/otlp/protobuf.js';
import { ProtoError } from './proto.js';
import type { FloatHistogram } from '../../core/model/histogram.js';
import { decodeSeriesHistogram } from './histogram_decode.js';

/** The Content-Type parameter that names a remote_write 2.0 body. */
export const RW2_PROTO = 'io.prometheus.write.v2.Request';
/** The one remote_write 1.0 names (also the meaning of no `proto` parameter). */
export const RW1_PROTO = 'prometheus.WriteRequest';

export const METRIC_TYPES = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'] as const;

export interface V2Exemplar {
  labels: Labels;
  value: number;
  ts: number;
}

export interface V2Series {
  labels: Labels;
  /** Timestamps and values, in wire order. */
  ts: number[];
  vs: number[];
  /** Native histogram samples, in wire order. */
  histograms: Array<{ t: number; h: FloatHistogram }>;
  exemplars: V2Exemplar[];
  metadata?: { type: string; help: string; unit: string };
  createdTs: number;
}

function fail(detail: string): ProtoError {
  return new ProtoError(detail);
}

/** Decodes a (decompressed) v2 Request; a malformed one throws {@link ProtoError} naming what is wrong. */
export function decodeV2Request(buf: Buffer): V2Series[] {
  return ProtoFields.decode(buf, 'Request', fail, (f) => {
    const symbols: string[] = [];
    const raw: Array<{ refs: number[]; f: V2Raw }> = [];
    while (f.next()) {
      if (f.field === 4) symbols.push(f.string('symbols'));
      else if (f.field === 5) raw.push(rawSeries(f.message('timeseries', 'TimeSeries')));
      else f.skip();
    }
    if (raw.length > 0 && symbols[0] !== '') throw fail(`symbols[0] must be the empty string, got ${JSON.stringify(symbols[0] ?? null)}`);
    const sym = (ref: number, what: string): string => {
      const s = symbols[ref];
      if (s === undefined) throw fail(`${what} refers to symbol ${ref}, past the ${symbols.length} symbols`);
      return s;
    };
    const labelsOf = (refs: number[], what: string): Labels => {
      if (refs.length % 2 !== 0) throw fail(`${what} has ${refs.length} label references, not name/value pairs`);
      const out: Label[] = [];
      for (let i = 0; i < refs.length; i += 2) out.push({ name: sym(refs[i]!, what), value: sym(refs[i + 1]!, what) });
      return sortLabels(out);
    };
    return raw.map(({ refs, f: r }, i) => {
      const what = `timeseries[${i}]`;
      const labels = labelsOf(refs, what);
      if (labels.length === 0) throw fail(`${what} has no labels`);
      const s: V2Series = {
        labels,
        ts: r.ts,
        vs: r.vs,
        histograms: [],
        exemplars: r.exemplars.map((e) => ({ labels: labelsOf(e.refs, `${what} exemplar`), value: e.value, ts: e.ts })),
        createdTs: r.createdTs,
      };
      const buf = f.buffer;
      for (let k = 0; k < r.histograms.length; k += 2) s.histograms.push(decodeSeriesHistogram(labels, buf, r.histograms[k]!, r.histograms[k + 1]!));
      if (r.metadata)
        s.metadata = {
          type: METRIC_TYPES[r.metadata.type] ?? 'unknown',
          help: sym(r.metadata.help, `${what} metadata`),
          unit: sym(r.metadata.unit, `${what} metadata`),
        };
      return s;
    });
  });
}

interface V2Raw {
  ts: number[];
  vs: number[];
  /** [start, end) of each Histogram message in the request buffer, decoded once the labels are known. */
  histograms: number[];
  exemplars: Array<{ refs: number[]; value: number; ts: number }>;
  metadata?: { type: number; help: number; unit: number };
  createdTs: number;
}

function rawSeries(f: ProtoFields): { refs: number[]; f: V2Raw } {
  const refs: number[] = [];
  const r: V2Raw = { ts: [], vs: [], histograms: [], exemplars: [], createdTs: 0 };
  while (f.next()) {
    switch (f.field) {
      case 1:
        f.packedUint32('labels_refs', refs);
        break;
      case 2: {
        const g = f.message('samples', 'Sample');
        let v = 0;
        let t = 0;
        while (g.next()) {
          if (g.field === 1) v = g.double('value');
          else if (g.field === 2) t = g.int64Number('timestamp');
          else g.skip();
        }
        r.ts.push(t);
        r.vs.push(v);
        break;
      }
      case 3: {
        const start = f.spanOf('histograms');
        r.histograms.push(start, f.pos);
        break;
      }
      case 4: {
        const g = f.message('exemplars', 'Exemplar');
        const e = { refs: [] as number[], value: 0, ts: 0 };
        while (g.next()) {
          if (g.field === 1) g.packedUint32('labels_refs', e.refs);
          else if (g.field === 2) e.value = g.double('value');
          else if (g.field === 3) e.ts = g.int64Number('timestamp');
          else g.skip();
        }
        r.exemplars.push(e);
        break;
      }
      case 5: {
        const g = f.message('metadata', 'Metadata');
        const md = { type: 0, help: 0, unit: 0 };
        while (g.next()) {
          if (g.field === 1) md.type = g.int32('type');
          else if (g.field === 3) md.help = g.uint32('help_ref');
          else if (g.field === 4) md.unit = g.uint32('unit_ref');
          else g.skip();
        }
        r.metadata = md;
        break;
      }
      case 6:
        r.createdTs = f.int64Number('created_timestamp');
        break;
      default:
        f.skip();
    }
  }
  return { refs, f: r };
}
