/**
 * ExportMetricsServiceRequest in OTLP/JSON (camelCase keys, int64 and fixed64 as decimal strings or
 * numbers, enums as numbers or names, ids as hex) into ./model.ts. A field of the wrong type is a
 * 400 naming its path; nothing of such a body is written.
 */
import type { AnyValue, KeyValue } from '../../core/otlp/common.js';
import { valueText } from './attrs.js';
import { OtlpMetricsError } from './errors.js';
import { newMetric, newPoint, type Attr, type DataPoint, type Exemplar, type Metric, type MetricsRequest, type ResourceMetrics } from './model.js';

type Obj = Record<string, unknown>;

function bad(path: string, want: string, got: unknown): OtlpMetricsError {
  let shown: string;
  try {
    shown = JSON.stringify(got)?.slice(0, 60) ?? String(got);
  } catch {
    shown = typeof got;
  }
  return new OtlpMetricsError(400, `invalid OTLP metrics request: ${path} must be ${want}, got ${shown}`);
}

function obj(v: unknown, path: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad(path, 'an object', v);
  return v as Obj;
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(path, 'an array', v);
  return v;
}

function str(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(path, 'a string', v);
  return v;
}

/** A double: a number, or "NaN", "Infinity", "-Infinity" as proto3 JSON writes them. */
function double(v: unknown, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw bad(path, 'a number', v);
}

/** An int64 or uint64: a decimal string or a number. */
function integer(v: unknown, path: string): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) return Number(v);
  throw bad(path, 'an integer (a decimal string)', v);
}

/** Nanoseconds since the epoch as whole milliseconds. */
function millis(v: unknown, path: string): number {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return Math.floor(v / 1e6);
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return Number(BigInt(v) / 1_000_000n);
  throw bad(path, 'nanoseconds since the epoch as a decimal string', v);
}

const TEMPORALITIES: Record<string, number> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};

function temporality(v: unknown, path: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && v in TEMPORALITIES) return TEMPORALITIES[v]!;
  throw bad(path, 'an AggregationTemporality', v);
}

function attrs(v: unknown, path: string): Attr[] {
  return list(v, path).map((kv, i) => {
    const o = obj(kv, `${path}[${i}]`) ?? {};
    const value = obj(o['value'], `${path}[${i}].value`);
    return { key: str(o['key'], `${path}[${i}].key`), value: valueText(value as AnyValue | undefined) };
  });
}

/** Decodes an OTLP/JSON ExportMetricsServiceRequest. */
export function decodeMetricsJson(text: string): MetricsRequest {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new OtlpMetricsError(400, `invalid OTLP metrics request: not JSON: ${(err as Error).message}`);
  }
  const r = obj(root, 'the body') ?? {};
  const resources: ResourceMetrics[] = list(r['resourceMetrics'], 'resourceMetrics').map((rm, i) => {
    const p = `resourceMetrics[${i}]`;
    const o = obj(rm, p) ?? {};
    const res = obj(o['resource'], `${p}.resource`);
    return {
      attrs: attrs(res?.['attributes'] as KeyValue[] | undefined, `${p}.resource.attributes`),
      scopes: list(o['scopeMetrics'], `${p}.scopeMetrics`).map((sm, j) => {
        const sp = `${p}.scopeMetrics[${j}]`;
        const so = obj(sm, sp) ?? {};
        const scope = obj(so['scope'], `${sp}.scope`) ?? {};
        return {
          name: str(scope['name'], `${sp}.scope.name`),
          version: str(scope['version'], `${sp}.scope.version`),
          metrics: list(so['metrics'], `${sp}.metrics`).map((m, k) => metric(m, `${sp}.metrics[${k}]`)),
        };
      }),
    };
  });
  return { resources };
}

function metric(v: unknown, path: string): Metric {
  const o = obj(v, path) ?? {};
  const m = newMetric();
  m.name = str(o['name'], `${path}.name`);
  m.description = str(o['description'], `${path}.description`);
  m.unit = str(o['unit'], `${path}.unit`);
  for (const [key, kind] of [
    ['gauge', 'gauge'],
    ['sum', 'sum'],
    ['histogram', 'histogram'],
    ['exponentialHistogram', 'exponential_histogram'],
    ['summary', 'summary'],
  ] as const) {
    const d = obj(o[key], `${path}.${key}`);
    if (!d) continue;
    m.kind = kind;
    m.temporality = temporality(d['aggregationTemporality'], `${path}.${key}.aggregationTemporality`);
    if (d['isMonotonic'] !== undefined && d['isMonotonic'] !== null) {
      if (typeof d['isMonotonic'] !== 'boolean') throw bad(`${path}.${key}.isMonotonic`, 'a boolean', d['isMonotonic']);
      m.monotonic = d['isMonotonic'];
    }
    const points = list(d['dataPoints'], `${path}.${key}.dataPoints`);
    // SEAM(native-histograms): exponential histogram points are counted and refused until they can be stored.
    if (kind === 'exponential_histogram') m.unstoredPoints = points.length;
    else m.points = points.map((dp, i) => point(dp, `${path}.${key}.dataPoints[${i}]`, kind));
  }
  return m;
}

function point(v: unknown, path: string, kind: string): DataPoint {
  const o = obj(v, path) ?? {};
  const p = newPoint(kind === 'histogram' ? 'histogram' : kind === 'summary' ? 'summary' : 'number');
  p.attrs = attrs(o['attributes'], `${path}.attributes`);
  p.startMs = millis(o['startTimeUnixNano'], `${path}.startTimeUnixNano`);
  p.timeMs = millis(o['timeUnixNano'], `${path}.timeUnixNano`);
  p.flags = integer(o['flags'], `${path}.flags`);
  if (kind === 'gauge' || kind === 'sum') {
    p.value = o['asInt'] !== undefined && o['asInt'] !== null ? integer(o['asInt'], `${path}.asInt`) : double(o['asDouble'], `${path}.asDouble`);
  } else {
    p.count = integer(o['count'], `${path}.count`);
    if (o['sum'] !== undefined && o['sum'] !== null) {
      p.sum = double(o['sum'], `${path}.sum`);
      p.hasSum = true;
    }
  }
  if (kind === 'histogram') {
    p.bucketCounts = list(o['bucketCounts'], `${path}.bucketCounts`).map((c, i) => integer(c, `${path}.bucketCounts[${i}]`));
    p.bounds = list(o['explicitBounds'], `${path}.explicitBounds`).map((b, i) => double(b, `${path}.explicitBounds[${i}]`));
  }
  if (kind === 'summary') {
    p.hasSum = true;
    list(o['quantileValues'], `${path}.quantileValues`).forEach((q, i) => {
      const qo = obj(q, `${path}.quantileValues[${i}]`) ?? {};
      p.quantiles.push(double(qo['quantile'], `${path}.quantileValues[${i}].quantile`), double(qo['value'], `${path}.quantileValues[${i}].value`));
    });
  }
  p.exemplars = list(o['exemplars'], `${path}.exemplars`).map((e, i) => exemplar(e, `${path}.exemplars[${i}]`));
  return p;
}

function exemplar(v: unknown, path: string): Exemplar {
  const o = obj(v, path) ?? {};
  return {
    attrs: attrs(o['filteredAttributes'], `${path}.filteredAttributes`),
    timeMs: millis(o['timeUnixNano'], `${path}.timeUnixNano`),
    value: o['asInt'] !== undefined && o['asInt'] !== null ? integer(o['asInt'], `${path}.asInt`) : double(o['asDouble'], `${path}.asDouble`),
    traceId: str(o['traceId'], `${path}.traceId`).toLowerCase(),
    spanId: str(o['spanId'], `${path}.spanId`).toLowerCase(),
  };
}
