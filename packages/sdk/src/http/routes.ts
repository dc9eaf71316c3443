/** Route templates for servers without a router: `/products/:id`, `/static/*`. */

/** The route label of requests that match no known route. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Matches a request path to the first route template that fits, or undefined. */
export type RouteMatcher = (path: string) => string | undefined;

/**
 * Compiles route templates into a matcher. `:name` matches one path segment, a trailing `*`
 * matches the rest; everything else is literal. Query strings are ignored.
 */
export function compileRoutes(templates: readonly string[]): RouteMatcher {
  const exact = new Map<string, string>();
  const patterns: Array<{ re: RegExp; template: string }> = [];
  for (const t of templates) {
    if (!t.includes(':') && !t.includes('*')) {
      if (!exact.has(t)) exact.set(t, t);
      continue;
    }
    let src = '^';
    for (const seg of t.split('/').slice(1)) {
      if (seg === '*') src += '(?:/.*)?';
      else if (seg.startsWith(':')) src += '/[^/]+';
      else src += '/' + seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    patterns.push({ re: new RegExp(src + '/?$'), template: t });
  }
  return (url) => {
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const e = exact.get(path);
    if (e !== undefined) return e;
    for (const p of patterns) if (p.re.test(path)) return p.template;
    return undefined;
  };
}
