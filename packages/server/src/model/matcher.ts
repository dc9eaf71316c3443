/** Label matchers (`=`, `!=`, `=~`, `!~`) as used by selectors and the storage seam. */

/** The four matcher operators, as written in PromQL. */
export const MATCH_TYPES = ['=', '!=', '=~', '!~'] as const;
/** One of {@link MATCH_TYPES}. */
export type MatchType = (typeof MATCH_TYPES)[number];

/** A compiled label matcher. Regexes are fully anchored and `.` matches newlines, as in Prometheus 3. */
export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  private readonly re: RegExp | undefined;

  /** Compiles the matcher; throws {@link MatcherError} for an invalid regex. */
  constructor(type: MatchType, name: string, value: string) {
    this.type = type;
    this.name = name;
    this.value = value;
    this.re = type === '=~' || type === '!~' ? compileAnchoredRegex(value) : undefined;
  }

  /** True when a label value (empty string for an absent label) satisfies the matcher. */
  matches(v: string): boolean {
    switch (this.type) {
      case '=':
        return v === this.value;
      case '!=':
        return v !== this.value;
      case '=~':
        return this.re!.test(v);
      case '!~':
        return !this.re!.test(v);
    }
  }

  /** True when the matcher accepts the empty string, i.e. also selects series without the label. */
  matchesEmpty(): boolean {
    return this.matches('');
  }

  /** The matcher as PromQL writes it: `name="value"`. */
  toString(): string {
    return `${this.name}${this.type}${JSON.stringify(this.value)}`;
  }
}

/** An invalid regular expression in a matcher. */
export class MatcherError extends Error {
  readonly code = 'bad_matcher' as const;
}

/**
 * Compiles an RE2-style pattern into an anchored JavaScript RegExp. A leading `(?i)` or `(?s)` flag
 * group, common in Prometheus configurations, becomes the equivalent RegExp flag.
 */
export function compileAnchoredRegex(pattern: string): RegExp {
  let flags = 's';
  let body = pattern;
  const m = /^\(\?([is]+)\)/.exec(body);
  if (m) {
    if (m[1]!.includes('i')) flags += 'i';
    body = body.slice(m[0].length);
  }
  try {
    return new RegExp(`^(?:${body})$`, flags);
  } catch (err) {
    throw new MatcherError(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}
