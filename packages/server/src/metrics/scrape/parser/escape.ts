/**
 * Unescaping of label values and HELP text. Only the escapes the formats define are replaced;
 * any other backslash sequence stays as it is, as Go's `strings.Replacer` leaves it in Prometheus.
 */

/** Label values (and OpenMetrics HELP): `\\` → `\`, `\"` → `"`, `\n` → newline. */
export function unescapeLabelValue(s: string): string {
  return unescape(s, true);
}

/** Prometheus text HELP: `\\` → `\` and `\n` → newline; `\"` stays. */
export function unescapeHelp(s: string): string {
  return unescape(s, false);
}

function unescape(s: string, quotes: boolean): string {
  let i = s.indexOf('\\');
  if (i < 0) return s;
  let out = '';
  let last = 0;
  while (i >= 0 && i + 1 < s.length) {
    const c = s.charCodeAt(i + 1);
    const r = c === 92 ? '\\' : c === 110 ? '\n' : c === 34 && quotes ? '"' : undefined;
    if (r === undefined) {
      i = s.indexOf('\\', i + 1);
      continue;
    }
    out += s.slice(last, i) + r;
    last = i + 2;
    i = s.indexOf('\\', last);
  }
  return out + s.slice(last);
}
