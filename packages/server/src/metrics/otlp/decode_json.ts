/**
 * ExportMetricsServiceRequest in OTLP/JSON (camelCase keys, int64 and fixed64 as decimal strings or
 * numbers, enums as numbers or names, ids as hex) into ./model.ts. A field of the wrong type is a
 * 400 naming its path; nothing of such a body is written.
 */
import type { AnyValue, KeyValue } from '../../core/otlp/common.js';
import { OtlpJsonReader } from '../../core/otlp/json.js';
import { valueText } from './attrs.js';
import { OtlpMetricsError } from './errors.js';
import {
  newMetric,
  newPoint,
  TEMPORALITY_CUMULATIVE,
  TEMPORALITY_DELTA,
  TEMPORALITY_UNSPECIFIED,
  type Attr,
  type DataPoint,
  type Exemplar,
  type Metric,
  type MetricsRequest,
  type ResourceMetrics,
} from './model.js';

const json = new OtlpJsonReader((detail) => new OtlpMetricsError(400, `invalid OTLP metrics request: ${detail}`));
const obj = (v: unknown, path: string): Record<string, unknown> | undefined => json.obj(v, path);
const list = (v: unknown, path: string): unknown[] => json.list(v, path);
const str = (v: unknown, path: string): string => json.str(v, path);
const double = (v: unknown, path: string): number => json.double(v, path);
const integer = (v: unknown, path: string): number => json.integer(v, path);
const millis = (v: unknown, path: string): number => json.millis(v, path);

const TEMPORALITIES = [TEMPORALITY_UNSPECIFIED, TEMPORALITY_DELTA, TEMPORALITY_CUMULATIVE];
const TEMPORALITY_NAMES: Record<string, number> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: TEMPORALITY_UNSPECIFIED,
  AGGREGATION_TEMPORALITY_DELTA: TEMPORALITY_DELTA,
  AGGREGATION_TEMPORALITY_CUMULATIVE: TEMPORALITY_CUMULATIVE,
};

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
    m.temporality = json.enumOf(d['aggregationTemporality'], `${path}.${key}.aggregationTemporality`, TEMPORALITIES, TEMPORALITY_NAMES);
    if (d['isMonotonic'] !== undefined && d['isMonotonic'] !== null) {
      if (typeof d['isMonotonic'] !== 'boolean') throw json.bad(`${path}.${key}.isMonotonic`, 'a boolean', d['isMonotonic']);
      m.monotonic = d['isMonotonic'];
    }
    m.points = list(d['dataPoints'], `${path}.${key}.dataPoints`).map((dp, i) => point(dp, `${path}.${key}.dataPoints[${i}]`, kind));
  }
  return m;
}

function point(v: unknown, path: string, kind: string): DataPoint {
  const o = obj(v, path) ?? {};
  const p = newPoint(kind === 'histogram' ? 'histogram' : kind === 'summary' ? 'summary' : kind === 'exponential_histogram' ? 'exponential' : 'number');
  p.attrs = attrs(o['attributes'], `${path}.attributes`);
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
  if (p.exp !== undefined) {
    const e = p.exp;
    e.scale = integer(o['scale'], `${path}.scale`);
    e.zeroCount = integer(o['zeroCount'], `${path}.zeroCount`);
    e.zeroThreshold = double(o['zeroThreshold'], `${path}.zeroThreshold`);
    e.positiveOffset = buckets(o['positive'], `${path}.positive`, e.positiveCounts);
    e.negativeOffset = buckets(o['negative'], `${path}.negative`, e.negativeCounts);
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

/** One side's Buckets: its counts pushed to `out`; returns its offset. */
function buckets(v: unknown, path: string, out: number[]): number {
  const o = obj(v, path) ?? {};
  for (const [i, c] of list(o['bucketCounts'], `${path}.bucketCounts`).entries()) out.push(integer(c, `${path}.bucketCounts[${i}]`));
  return integer(o['offset'], `${path}.offset`);
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
