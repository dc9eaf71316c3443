/**
 * Every user-supplied regular expression in Vigil compiles here, on RE2 (the `re2` package), so a
 * match runs in time linear in the input whatever the pattern: JavaScript's backtracking engine
 * takes minutes on `(a+)+$` against `aaa…a!`, and one such selector, silence or line filter froze
 * the whole server. RE2 is also the syntax Prometheus, Alertmanager and Loki accept, so patterns
 * they refuse (backreferences, lookaround) are refused here too, with Go's wording of the error.
 *
 * Semantics follow Prometheus 3: `.` matches a newline; label matchers and relabel regexes are
 * anchored at both ends (`^(?:…)$`); LogQL line filters are not anchored. Vigil's own constant
 * patterns stay on JavaScript's RegExp: they are known to be safe and faster there.
 */
import RE2 from 're2';
import { VigilError } from '../errors.js';
import { literalTest } from './literal.js';

/** Where a pattern must match: the whole string (label matchers, relabel) or anywhere (line filters). */
export type RegexAnchoring = 'full' | 'none';

/** A pattern rejected by RE2; the message is Go's `regexp/syntax` wording, as Prometheus prints it. */
export class RegexSyntaxError extends VigilError {
  override readonly code = 'bad_regex' as const;
  readonly pattern: string;
  constructor(pattern: string, message: string) {
    super('bad_regex', message);
    this.pattern = pattern;
  }
}

/** A compiled pattern. Stateless: one instance is shared by every caller through the cache. */
export class CompiledRegex {
  readonly pattern: string;
  readonly anchoring: RegexAnchoring;
  private readonly re: RE2;
  // Patterns without metacharacters skip RE2 (its call crosses into C++ and re-encodes as UTF-8).
  private readonly fast: ((s: string) => boolean) | undefined;
  private global: RE2 | undefined;

  constructor(pattern: string, anchoring: RegexAnchoring) {
    // The bare pattern is compiled first so that `a)|(b` is refused as Go refuses it, rather than
    // accepted once wrapped as `^(?:a)|(b)$`, and so errors quote the user's text, not the wrapper.
    const bare = compileRe2(pattern, '');
    this.pattern = pattern;
    this.anchoring = anchoring;
    this.re = anchoring === 'full' ? compileRe2(`^(?:${pattern})$`, '') : bare;
    this.fast = literalTest(pattern, anchoring);
  }

  /** True when the pattern matches `s` (the whole of it when anchored). */
  test(s: string): boolean {
    return this.fast !== undefined ? this.fast(s) : this.re.test(s);
  }

  /** The first match with its numbered and named groups (unmatched groups are undefined), or null. */
  exec(s: string): RegExpExecArray | null {
    return this.re.exec(s);
  }

  /** Names of the named capture groups (`(?P<name>…)`), in order. */
  groupNames(): string[] {
    const names: string[] = [];
    for (const m of this.pattern.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)) names.push(m[1]!);
    return names;
  }

  /**
   * Replaces every non-overlapping match, left to right, with `replace(match)`, like Go's
   * `ReplaceAllStringFunc`; an empty match advances one character so the scan always ends.
   */
  replaceAll(s: string, replace: (m: RegExpExecArray) => string): string {
    const re = (this.global ??= compileRe2(this.anchoring === 'full' ? `^(?:${this.pattern})$` : this.pattern, 'g'));
    re.lastIndex = 0;
    let out = '';
    let last = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      out += s.slice(last, m.index) + replace(m);
      last = m.index + m[0].length;
      if (m[0].length === 0) {
        if (m.index >= s.length) break;
        re.lastIndex = m.index + 1;
      }
    }
    return out + s.slice(last);
  }
}

/**
 * The compiled patterns, most recently used last. Selectors and silences repeat the same few
 * patterns on every query and every alert, so compiling once pays; the bound keeps a stream of
 * distinct patterns (one per ad-hoc query) from growing memory without end.
 */
const CACHE_LIMIT = 4096;
const cache = new Map<string, CompiledRegex>();

/** Compiles (or fetches from the cache) `pattern`; throws {@link RegexSyntaxError} when RE2 refuses it. */
export function compileRegex(pattern: string, anchoring: RegexAnchoring): CompiledRegex {
  const key = anchoring === 'full' ? `F${pattern}` : `N${pattern}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const re = new CompiledRegex(pattern, anchoring);
  cache.set(key, re);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return re;
}

/** How many compiled patterns the cache holds (for tests of its bound). */
export function regexCacheSize(): number {
  return cache.size;
}

/** `s`: `.` matches `\n` (Prometheus 3); `u`: RE2 works on code points, and says so to the package. */
function compileRe2(source: string, extraFlags: string): RE2 {
  try {
    return new RE2(source, `su${extraFlags}`);
  } catch (err) {
    throw new RegexSyntaxError(source, goSyntaxMessage((err as Error).message));
  }
}

/**
 * RE2's C++ error texts, as Go's `regexp/syntax` words the same conditions. Prometheus, Loki and
 * Alertmanager print Go's text, and clients match on it.
 */
const GO_WORDING: readonly (readonly [string, string])[] = [
  ['invalid perl operator', 'invalid or unsupported Perl syntax'],
  ['invalid escape sequence', 'invalid escape sequence'],
  ['invalid character class range', 'invalid character class range'],
  ['invalid character class', 'invalid character class'],
  ['missing ]', 'missing closing ]'],
  ['missing )', 'missing closing )'],
  ['unexpected )', 'unexpected )'],
  ['trailing \\', 'trailing backslash at end of expression'],
  ['no argument for repetition operator', 'missing argument to repetition operator'],
  ['invalid repetition size', 'invalid repeat count'],
  ['bad repetition operator', 'invalid nested repetition operator'],
  ['invalid UTF-8', 'invalid UTF-8'],
  ['invalid named capture group', 'invalid named capture'],
  ['duplicate capture group name', 'duplicate capture group name'],
  ['pattern too large', 'expression too large'],
];

/** `invalid perl operator: (?=` → ``error parsing regexp: invalid or unsupported Perl syntax: `(?=` ``. */
export function goSyntaxMessage(re2Message: string): string {
  for (const [re2Text, goText] of GO_WORDING) {
    if (!re2Message.startsWith(re2Text)) continue;
    const rest = re2Message.slice(re2Text.length);
    const fragment = rest.startsWith(': ') ? rest.slice(2) : '';
    return `error parsing regexp: ${goText}: \`${fragment}\``;
  }
  return `error parsing regexp: ${re2Message}`;
}
