/**
 * Making untrusted values (label values, alert annotations) safe where the UI puts them: inside a
 * PromQL or LogQL string, or in a link's href. Label values come from whatever was scraped or
 * pushed, annotations from whoever wrote the rule or posted the alert.
 */

/**
 * A label value as a double-quoted PromQL/LogQL string. Without escaping, a value containing `"`
 * ends the string early and the rest becomes query text (or a parse error).
 */
export function quoteLabelValue(value: string): string {
  const escaped = value.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
  return `"${escaped}"`;
}

/** An equality matcher `name="value"` with the value escaped. */
export function labelMatcher(name: string, value: string): string {
  return `${name}=${quoteLabelValue(value)}`;
}

/**
 * `url` when it is safe as a link target: http(s), or relative to the page (resolved against
 * `base`); undefined otherwise. `javascript:`, `data:` and `vbscript:` URLs run code or content in
 * Vigil's origin when clicked, and an annotation can hold any of them.
 */
export function safeHref(url: string | undefined, base: string): string | undefined {
  if (url === undefined || url.trim() === '') return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    return undefined;
  }
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? url : undefined;
}
