/**
 * Go's `regexp.Expand` template semantics, which relabel `replacement` and `target_label` use:
 * `$1`, `${1}`, `$name`, `${name}`; a name is the longest run of letters, digits and `_`, so `$1x`
 * means the group named `1x` (empty), not `$1` then `x`; `$$` is a literal `$`; a malformed
 * reference such as `$` or `${x` is copied as text; unknown or unmatched groups expand to ''.
 */

const WORD = /[\p{L}\p{Nd}_]/u;

/** Expands `template` with the groups of `m`, a match of an anchored relabel regex. */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  let i = template.indexOf('$');
  if (i < 0) return template;
  let out = template.slice(0, i);
  while (i >= 0) {
    let rest = i + 1;
    if (template[rest] === '$') {
      out += '$';
      rest++;
    } else {
      const ref = extract(template, rest);
      if (ref === undefined) out += '$';
      else {
        out += group(m, ref.name);
        rest = ref.end;
      }
    }
    i = template.indexOf('$', rest);
    out += template.slice(rest, i < 0 ? template.length : i);
  }
  return out;
}

/** Parses a reference after `$` at `start`: `name` or `{name}`. */
function extract(s: string, start: number): { name: string; end: number } | undefined {
  let i = start;
  const brace = s[i] === '{';
  if (brace) i++;
  const nameStart = i;
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (!WORD.test(ch)) break;
    i += ch.length;
  }
  if (i === nameStart) return undefined;
  const name = s.slice(nameStart, i);
  if (brace) {
    if (s[i] !== '}') return undefined;
    i++;
  }
  return { name, end: i };
}

/** The text of group `name` (a number without leading zeros, or a group name), or ''. */
function group(m: RegExpExecArray, name: string): string {
  if (/^(0|[1-9][0-9]{0,8})$/.test(name)) return m[Number(name)] ?? '';
  return m.groups?.[name] ?? '';
}

/** True when `s` contains a `$` and so may need expansion. */
export function hasTemplateVar(s: string): boolean {
  return s.includes('$');
}
