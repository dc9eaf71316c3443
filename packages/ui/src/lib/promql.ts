/**
 * A small PromQL tokenizer for highlighting and autocomplete. It does not parse: the server is the
 * judge of validity (its errors are shown inline); this only has to classify characters well enough
 * to colour them and to tell what the cursor is in the middle of.
 */

/** Token classes, used as CSS class suffixes. */
export type TokenKind = 'metric' | 'function' | 'keyword' | 'label' | 'string' | 'number' | 'duration' | 'operator' | 'paren' | 'comment' | 'space' | 'other';

/** One token: its kind and source text. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly start: number;
}

/** PromQL functions, for highlighting and completion. */
export const FUNCTIONS: readonly string[] = [
  'abs',
  'absent',
  'absent_over_time',
  'avg_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'count_over_time',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'delta',
  'deriv',
  'exp',
  'floor',
  'histogram_quantile',
  'holt_winters',
  'hour',
  'idelta',
  'increase',
  'irate',
  'label_join',
  'label_replace',
  'last_over_time',
  'ln',
  'log10',
  'log2',
  'max_over_time',
  'min_over_time',
  'minute',
  'month',
  'predict_linear',
  'present_over_time',
  'quantile_over_time',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sort',
  'sort_desc',
  'sqrt',
  'stddev_over_time',
  'stdvar_over_time',
  'sum_over_time',
  'time',
  'timestamp',
  'vector',
  'year',
  'sin',
  'cos',
  'tan',
  'deg',
  'rad',
  'pi',
];

/** Aggregation operators and keywords. */
export const KEYWORDS: readonly string[] = [
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'atan2',
];

const FN_SET = new Set(FUNCTIONS);
const KW_SET = new Set(KEYWORDS);

/** Splits a PromQL expression into tokens covering every character. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let braceDepth = 0;
  // Inside `by (...)`/`on (...)` the identifiers are label names, not metrics.
  let labelListDepth = -1;
  let parenDepth = 0;
  const push = (kind: TokenKind, start: number, end: number): void => {
    out.push({ kind, text: src.slice(start, end), start });
  };
  while (i < src.length) {
    const c = src[i]!;
    const start = i;
    if (/\s/.test(c)) {
      while (i < src.length && /\s/.test(src[i]!)) i++;
      push('space', start, i);
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      push('comment', start, i);
    } else if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' && c !== '`' ? 2 : 1;
      i = Math.min(i + 1, src.length);
      push('string', start, i);
    } else if (c === '[') {
      // Range or subquery durations: highlight the whole bracket body as a duration.
      while (i < src.length && src[i] !== ']') i++;
      i = Math.min(i + 1, src.length);
      push('duration', start, i);
    } else if (/[0-9.]/.test(c)) {
      while (i < src.length && /[0-9a-zA-Z._+]/.test(src[i]!) && !(src[i] === '+' && !/[eE]/.test(src[i - 1]!))) i++;
      const text = src.slice(start, i);
      push(/^\d+(ms|[smhdwy])/.test(text) ? 'duration' : 'number', start, i);
    } else if (/[a-zA-Z_:]/.test(c)) {
      while (i < src.length && /[a-zA-Z0-9_:]/.test(src[i]!)) i++;
      const word = src.slice(start, i);
      let j = i;
      while (j < src.length && src[j] === ' ') j++;
      const next = src[j];
      if (braceDepth > 0 || labelListDepth >= 0) push('label', start, i);
      else if (KW_SET.has(word.toLowerCase())) {
        push('keyword', start, i);
        if (/^(by|without|on|ignoring|group_left|group_right)$/i.test(word) && next === '(') labelListDepth = parenDepth;
      } else if (FN_SET.has(word) && next === '(') push('function', start, i);
      else push('metric', start, i);
    } else if (c === '{') {
      braceDepth++;
      i++;
      push('paren', start, i);
    } else if (c === '}') {
      braceDepth = Math.max(0, braceDepth - 1);
      i++;
      push('paren', start, i);
    } else if (c === '(' || c === ')') {
      if (c === '(') parenDepth++;
      else {
        parenDepth--;
        if (parenDepth === labelListDepth) labelListDepth = -1;
      }
      i++;
      push('paren', start, i);
    } else if (/[-+*/%^=!<>~,@]/.test(c)) {
      while (i < src.length && /[=!<>~]/.test(src[i + 1] ?? '') && /[=!<>]/.test(src[i]!)) i++;
      i++;
      push('operator', start, i);
    } else {
      i++;
      push('other', start, i);
    }
  }
  return out;
}

/** What the cursor is completing: a metric/function name, a label name, or a label's value. */
export type CompletionContext =
  | { readonly kind: 'metric'; readonly prefix: string; readonly from: number }
  | { readonly kind: 'label'; readonly prefix: string; readonly from: number; readonly metric: string }
  | { readonly kind: 'value'; readonly prefix: string; readonly from: number; readonly metric: string; readonly label: string }
  | { readonly kind: 'none' };

/** Works out what the word before `cursor` is, for autocomplete. */
export function completionContext(src: string, cursor: number): CompletionContext {
  const before = src.slice(0, cursor);
  // Inside a quoted label value: `{label="pre|`.
  const valueMatch = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(before);
  const open = before.lastIndexOf('{');
  const close = before.lastIndexOf('}');
  const inBraces = open > close;
  const metric = inBraces ? (/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(before.slice(0, open))?.[1] ?? '') : '';
  if (inBraces && valueMatch) {
    return { kind: 'value', prefix: valueMatch[3]!, from: cursor - valueMatch[3]!.length, metric, label: valueMatch[1]! };
  }
  const word = /[a-zA-Z_:][a-zA-Z0-9_:]*$/.exec(before)?.[0] ?? '';
  if (inBraces) return { kind: 'label', prefix: word, from: cursor - word.length, metric };
  // A `by (` list also names labels.
  if (/\b(by|without|on|ignoring)\s*\([^)]*$/.test(before)) return { kind: 'label', prefix: word, from: cursor - word.length, metric: '' };
  if (!word) return { kind: 'none' };
  // Not after a digit (a number or duration) or inside a range bracket.
  if (before.lastIndexOf('[') > before.lastIndexOf(']')) return { kind: 'none' };
  return { kind: 'metric', prefix: word, from: cursor - word.length };
}

/** Candidates starting with (then containing) `prefix`, at most `limit`. */
export function rankCompletions(candidates: readonly string[], prefix: string, limit = 12): string[] {
  const p = prefix.toLowerCase();
  const starts: string[] = [];
  const contains: string[] = [];
  for (const c of candidates) {
    const l = c.toLowerCase();
    if (l === p) continue;
    if (l.startsWith(p)) starts.push(c);
    else if (p.length >= 2 && l.includes(p)) contains.push(c);
  }
  return [...starts.sort(), ...contains.sort()].slice(0, limit);
}

/** The character offset named by a Prometheus-style parse error ("1:5: parse error ..."), if any. */
export function errorPosition(message: string): number | undefined {
  const m = /(?:^|\s)(\d+):(\d+):/.exec(message) ?? /position (\d+)/.exec(message);
  if (!m) return undefined;
  return m[2] !== undefined ? Number(m[2]) - 1 : Number(m[1]);
}
