/**
 * What Grafana's Loki data source asks to build its filters: the stream labels of a selector with
 * their cardinality (`/detected_labels`), and the fields found in the lines of a query, with the
 * parser that found them, a guessed type and cardinality (`/detected_fields`).
 */
import type { Matcher } from '../../core/model/matcher.js';
import { parseGoDuration, parseBytes } from '../logql/units.js';
import { parseLogfmt } from '../logql/pipeline.js';
import type { StreamsValue } from '../logql/engine.js';
import type { LogQueryable } from '../storage/interface.js';

/** A stream label and how many values it takes in the range. */
export interface DetectedLabel {
  readonly label: string;
  readonly cardinality: number;
}

/** The labels of the streams matching `matchers` in [start, end) (ns), by name. */
export function detectedLabels(store: LogQueryable, matchers: readonly Matcher[], start: bigint, end: bigint): DetectedLabel[] {
  const values = new Map<string, Set<string>>();
  for (const s of store.selectStreams(matchers, start, end))
    for (const l of s.labels) {
      let v = values.get(l.name);
      if (!v) values.set(l.name, (v = new Set()));
      v.add(l.value);
    }
  return [...values].map(([label, v]) => ({ label, cardinality: v.size })).sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/** The value types Loki reports for a detected field. */
export type FieldType = 'int' | 'float' | 'boolean' | 'duration' | 'bytes' | 'string';

/** A field found in the lines. */
export interface DetectedField {
  readonly label: string;
  readonly type: FieldType;
  readonly cardinality: number;
  /** The parsers that found it (`json`, `logfmt`). */
  readonly parsers: string[];
}

/**
 * The type of one value, tried in Loki's order: an integer before a float, a bool before a
 * duration, then bytes; anything else is a string.
 */
export function valueType(v: string): FieldType {
  if (/^[+-]?\d+$/.test(v)) return 'int';
  if (v.trim() !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return 'float';
  if (/^(t|f|T|F|true|false|TRUE|FALSE|True|False)$/.test(v)) return 'boolean';
  if (v !== '' && parseGoDuration(v) !== undefined) return 'duration';
  if (/^\d+(\.\d+)?\s?[a-zA-Z]+$/.test(v) && parseBytes(v) !== undefined) return 'bytes';
  return 'string';
}

/** JSON keys flattened as Loki's `| json` names them (nested keys joined by `_`), with scalar values. */
function jsonFields(line: string): [string, string][] | undefined {
  if (!line.startsWith('{')) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  const out: [string, string][] = [];
  const walk = (v: unknown, prefix: string): void => {
    if (v === null) return;
    if (typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, prefix ? `${prefix}_${k}` : k);
    else if (typeof v !== 'object') out.push([prefix, String(v)]);
  };
  walk(o, '');
  return out;
}

/**
 * The fields of the lines of a log query's result, at most `limit` of them by name. A line is
 * JSON when it parses as an object, else logfmt when it parses as pairs; Loki detects the same way.
 */
export function detectedFields(result: StreamsValue, limit = 1000): DetectedField[] {
  const fields = new Map<string, { values: Set<string>; types: Set<FieldType>; parsers: Set<string> }>();
  const add = (name: string, value: string, parser: string): void => {
    let f = fields.get(name);
    if (!f) fields.set(name, (f = { values: new Set(), types: new Set(), parsers: new Set() }));
    f.values.add(value);
    f.types.add(valueType(value));
    f.parsers.add(parser);
  };
  for (const s of result.streams)
    for (const e of s.entries) {
      const js = jsonFields(e.line);
      if (js) for (const [k, v] of js) add(k, v, 'json');
      else {
        const pairs: [string, string][] = [];
        // A line that is not logfmt (free text) has no fields to offer.
        if (parseLogfmt(e.line, (k, v) => pairs.push([k, v])) && pairs.some(([, v]) => v !== '')) for (const [k, v] of pairs) if (v !== '') add(k, v, 'logfmt');
      }
    }
  return [...fields]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([label, f]) => ({ label, type: unify(f.types), cardinality: f.values.size, parsers: [...f.parsers].sort() }));
}

/** One type for a field's values: the common one, an int widened to float, else string. */
function unify(types: Set<FieldType>): FieldType {
  if (types.size === 1) return [...types][0]!;
  if (types.size === 2 && types.has('int') && types.has('float')) return 'float';
  return 'string';
}
