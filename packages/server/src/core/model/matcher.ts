/** Label matchers (`=`, `!=`, `=~`, `!~`) as used by selectors and the storage seam. */
import { compileRegex, RegexSyntaxError, type CompiledRegex } from '../regex/re2.js';
import { VigilError } from '../errors.js';

/** The four matcher operators, as written in PromQL. */
export const MATCH_TYPES = ['=', '!=', '=~', '!~'] as const;
/** One of {@link MATCH_TYPES}. */
export type MatchType = (typeof MATCH_TYPES)[number];

/** A compiled label matcher. Regexes are fully anchored and `.` matches newlines, as in Prometheus 3. */
export class Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  private readonly re: CompiledRegex | undefined;

  /** Compiles the matcher (on RE2, through the shared cache); throws {@link MatcherError} for an invalid regex. */
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
export class MatcherError extends VigilError {
  override readonly code = 'bad_matcher' as const;
  constructor(message: string, options?: ErrorOptions) {
    super('bad_matcher', message, options);
  }
}

/**
 * Compiles a pattern anchored at both ends, as label matchers, relabel and `label_replace` use it.
 * The error message is Go's (`error parsing regexp: …`), which Prometheus shows unchanged.
 */
export function compileAnchoredRegex(pattern: string): CompiledRegex {
  try {
    return compileRegex(pattern, 'full');
  } catch (err) {
    if (err instanceof RegexSyntaxError) throw new MatcherError(err.message, { cause: err });
    throw err;
  }
}
