/**
 * Shortcuts for the regexes that are really string tests: `api`, `GET|POST`, `.*`, `.+`, `job-.*`,
 * `.*-prod`, `.*error.*`. Series selection runs a matcher on every label value it scans, and most
 * selectors use these shapes; a string comparison is several times faster than a call into RE2.
 * Because `.` matches every character (Prometheus 3 semantics) each shortcut gives exactly RE2's answer.
 */
import type { RegexAnchoring } from './re2.js';

/** RE2's metacharacters: a pattern without them matches itself literally. */
const META = /[\\.+*?()|[\]{}^$]/;

/** A test equal to the regex's for `pattern`, or undefined when the pattern needs the engine. */
export function literalTest(pattern: string, anchoring: RegexAnchoring): ((s: string) => boolean) | undefined {
  if (anchoring === 'none') {
    if (pattern === '' || !META.test(pattern)) return (s) => s.includes(pattern);
    return undefined;
  }
  if (pattern === '.*') return () => true;
  if (pattern === '.+') return (s) => s.length > 0;
  if (!META.test(pattern)) return (s) => s === pattern;
  if (pattern.includes('|')) {
    const alternatives = pattern.split('|');
    if (alternatives.some((a) => META.test(a))) return undefined;
    const set = new Set(alternatives);
    return (s) => set.has(s);
  }
  const leading = pattern.startsWith('.*');
  const trailing = pattern.endsWith('.*') && pattern.length >= (leading ? 4 : 2);
  const middle = pattern.slice(leading ? 2 : 0, trailing ? -2 : undefined);
  if ((!leading && !trailing) || META.test(middle)) return undefined;
  if (leading && trailing) return (s) => s.includes(middle);
  if (leading) return (s) => s.endsWith(middle);
  return (s) => s.startsWith(middle);
}
