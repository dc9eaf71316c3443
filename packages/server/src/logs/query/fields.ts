/** The fields of a log line, for facets and correlation, without a LogQL pipeline. */
import { parseLogfmt } from '../logql/pipeline.js';

/** Top-level scalar fields of a JSON line, else the pairs of a logfmt line, as strings. */
export function lineFields(line: string): [string, string][] {
  const out: [string, string][] = [];
  if (line.startsWith('{')) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      for (const [k, v] of Object.entries(o)) if (v !== null && typeof v !== 'object') out.push([k, String(v)]);
      return out;
    } catch {
      // Not JSON after all: a logfmt line may start with a brace too.
    }
  }
  parseLogfmt(line, (k, v) => out.push([k, v]));
  return out;
}
