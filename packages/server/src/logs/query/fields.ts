/** The fields of a log line, for facets and correlation, without a LogQL pipeline. */
import { parseLogfmt } from '../logql/pipeline.js';

/** Nested objects this deep are flattened; deeper ones are rare in logs and not worth a facet. */
const MAX_DEPTH = 4;

function flatten(prefix: string, o: Record<string, unknown>, depth: number, out: [string, string][]): void {
  for (const [k, v] of Object.entries(o)) {
    const name = prefix ? `${prefix}_${k}` : k;
    if (v === null || v === undefined || Array.isArray(v)) continue;
    if (typeof v === 'object') {
      if (depth < MAX_DEPTH) flatten(name, v as Record<string, unknown>, depth + 1, out);
      continue;
    }
    out.push([name, String(v)]);
  }
}

/**
 * Scalar fields of a JSON line, nested objects flattened with `_` (`{"err":{"type":"E"}}` gives
 * `err_type`, the name LogQL's `| json` gives it, so a facet's filter matches), else the pairs of a
 * logfmt line, as strings.
 */
export function lineFields(line: string): [string, string][] {
  const out: [string, string][] = [];
  if (line.startsWith('{')) {
    try {
      const o = JSON.parse(line) as unknown;
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) flatten('', o as Record<string, unknown>, 1, out);
      return out;
    } catch {
      // Not JSON after all: a logfmt line may start with a brace too.
    }
  }
  parseLogfmt(line, (k, v) => out.push([k, v]));
  return out;
}
