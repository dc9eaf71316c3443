/** The words of TraceQL: intrinsic field names (bare and scoped), status and kind values, keywords. */
import { METRICS_FNS, type Intrinsic } from './ast.js';
import type { SpanKind, StatusCode } from '../storage/types.js';

export const STATUSES: ReadonlySet<string> = new Set<StatusCode>(['error', 'ok', 'unset']);
export const KINDS: ReadonlySet<string> = new Set<SpanKind>(['unspecified', 'internal', 'server', 'client', 'producer', 'consumer']);

export const BARE_INTRINSICS: ReadonlyMap<string, Intrinsic> = new Map<string, Intrinsic>([
  ['duration', 'duration'],
  ['name', 'name'],
  ['status', 'status'],
  ['statusMessage', 'statusMessage'],
  ['kind', 'kind'],
  ['rootName', 'rootName'],
  ['rootServiceName', 'rootServiceName'],
  ['traceDuration', 'traceDuration'],
  ['childCount', 'childCount'],
  ['nestedSetLeft', 'nestedSetLeft'],
  ['nestedSetRight', 'nestedSetRight'],
  ['nestedSetParent', 'nestedSetParent'],
]);

/** The `span:` / `trace:` / `instrumentation:` forms Tempo documents. */
export const SCOPED_INTRINSICS: ReadonlyMap<string, Intrinsic> = new Map<string, Intrinsic>([
  ['span:duration', 'duration'],
  ['span:name', 'name'],
  ['span:kind', 'kind'],
  ['span:status', 'status'],
  ['span:statusMessage', 'statusMessage'],
  ['span:id', 'spanID'],
  ['span:parentID', 'parentID'],
  ['span:childCount', 'childCount'],
  ['trace:duration', 'traceDuration'],
  ['trace:rootName', 'rootName'],
  ['trace:rootService', 'rootServiceName'],
  ['trace:id', 'traceID'],
  ['event:name', 'eventName'],
  ['event:timeSinceStart', 'eventTimeSinceStart'],
  ['link:traceID', 'linkTraceID'],
  ['link:spanID', 'linkSpanID'],
  ['instrumentation:name', 'instrumentationName'],
  ['instrumentation:version', 'instrumentationVersion'],
]);

/** Words the grammar knows; any other word is an IDENTIFIER (and always a syntax error). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'true',
  'false',
  'nil',
  'error',
  'ok',
  'unset',
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
  'duration',
  'name',
  'status',
  'statusMessage',
  'kind',
  'rootName',
  'rootServiceName',
  'traceDuration',
  'childCount',
  'nestedSetLeft',
  'nestedSetRight',
  'nestedSetParent',
  'topk',
  'with',
  'bottomk',
  'count',
  'avg',
  'min',
  'max',
  'sum',
  'by',
  'select',
  'coalesce',
  ...METRICS_FNS,
]);
