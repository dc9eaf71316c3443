/**
 * `format_query`: a LogQL query in one canonical spelling. The AST has no printer, so this
 * normalises the text instead, after the parser has accepted it: runs of whitespace become one
 * space (none inside brackets or before a range), and inside a stream selector matchers are written as Loki prints them (`{a="b", c=~"d"}`).
 * String literals are copied untouched.
 */
import { parseLogql } from '../logql/parser.js';

/** The query, normalised; throws LogqlParseError when it is not LogQL. */
export function formatQuery(query: string): string {
  parseLogql(query);
  let out = '';
  let depth = 0;
  let i = 0;
  const n = query.length;
  const space = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
  while (i < n) {
    const c = query[i]!;
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < n && query[j] !== c) j += c === '"' && query[j] === '\\' ? 2 : 1;
      out += query.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (space(c)) {
      while (space(query[i])) i++;
      // Inside braces whitespace goes (a comma brings its own); outside, one space, none at the ends
      // nor inside brackets: `count_over_time({a="b"} [5m] )` is `count_over_time({a="b"}[5m])`.
      if (depth === 0 && out !== '' && i < n && !'[])'.includes(query[i]!) && !out.endsWith('(')) out += ' ';
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
    out += c;
    if (c === ',' && depth > 0) out += ' ';
    i++;
  }
  return out;
}
