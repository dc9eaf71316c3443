/** Facets: the most frequent values of each field (stream labels and parsed line fields) over the lines of a log query. */
import type { StreamsValue } from '../logql/engine.js';
import { lineFields } from './fields.js';

/** The top values of one field. */
export interface Facet {
  readonly field: string;
  /** How many different values the field has. */
  readonly distinct: number;
  /** The `top` most frequent values, most frequent first. */
  readonly values: { readonly value: string; readonly count: number }[];
}

/** What to count. */
export interface FacetOptions {
  /** Only this field (default: all). */
  readonly field?: string | undefined;
  /** Values kept per field (default 10). */
  readonly top?: number;
}

/** Counts field values over the lines of a log query's result; facets are sorted by field name. */
export function facetsOf(result: StreamsValue, opts: FacetOptions = {}): { lines: number; facets: Facet[] } {
  const top = opts.top ?? 10;
  const counts = new Map<string, Map<string, number>>();
  const add = (name: string, value: string): void => {
    if (opts.field && name !== opts.field) return;
    let m = counts.get(name);
    if (!m) counts.set(name, (m = new Map()));
    m.set(value, (m.get(value) ?? 0) + 1);
  };
  let lines = 0;
  for (const s of result.streams)
    for (const e of s.entries) {
      lines++;
      // A line field overrides a stream label of the same name: it is what the line says.
      const fields = new Map<string, string>(s.labels.map((l) => [l.name, l.value]));
      for (const [k, v] of lineFields(e.line)) fields.set(k, v);
      for (const [k, v] of fields) add(k, v);
    }
  const facets = [...counts].map(([field, m]) => ({
    field,
    distinct: m.size,
    values: [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([value, count]) => ({ value, count })),
  }));
  return { lines, facets: facets.sort((a, b) => a.field.localeCompare(b.field)) };
}
