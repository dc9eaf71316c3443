/**
 * Number syntax of the exposition formats. Prometheus parses sample values with Go's
 * `strconv.ParseFloat` but rejects `p`, `P` and `_`, so hexadecimal floats (`0x1p3`) and digit
 * separators are errors; `Inf`, `+Inf`, `-inf`, `infinity` and `NaN` (any case, NaN unsigned) are
 * accepted, and a finite literal beyond the float64 range is an error rather than ±Inf.
 */

const C = { plus: 43, minus: 45, dot: 46, zero: 48, nine: 57 } as const;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= C.zero && c <= C.nine;
}

/** Case-insensitive match of `word` at `b[i..]`; `word` must be lower case ASCII. */
function matchWord(b: Uint8Array, i: number, end: number, word: string): boolean {
  if (end - i !== word.length) return false;
  for (let k = 0; k < word.length; k++) if ((b[i + k]! | 0x20) !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * Parses `b[start:end]` as a Go float literal. Returns undefined when the text is not one (use
 * {@link floatError} for the reason); this keeps the hot path free of exceptions and allocations.
 */
export function parseFloatBytes(b: Buffer, start: number, end: number): number | undefined {
  let i = start;
  if (i >= end) return undefined;
  let neg = false;
  const c0 = b[i]!;
  if (c0 === C.plus || c0 === C.minus) {
    neg = c0 === C.minus;
    i++;
  }
  if (i < end) {
    const lc = b[i]! | 0x20;
    if (lc === 0x69 /* i */) {
      if (matchWord(b, i, end, 'inf') || matchWord(b, i, end, 'infinity')) return neg ? -Infinity : Infinity;
      return undefined;
    }
    if (lc === 0x6e /* n */) return i === start && matchWord(b, i, end, 'nan') ? NaN : undefined;
  }
  // Mantissa: digits [. digits] or . digits; then an optional exponent.
  let digits = 0;
  let simple = true; // only digits: fast path without building a string
  let acc = 0;
  while (i < end && isDigit(b[i])) {
    acc = acc * 10 + (b[i]! - C.zero);
    i++;
    digits++;
  }
  if (i < end && b[i] === C.dot) {
    simple = false;
    i++;
    while (i < end && isDigit(b[i])) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return undefined;
  if (i < end && (b[i]! | 0x20) === 0x65 /* e */) {
    simple = false;
    i++;
    if (i < end && (b[i] === C.plus || b[i] === C.minus)) i++;
    if (i >= end || !isDigit(b[i])) return undefined;
    while (i < end && isDigit(b[i])) i++;
  }
  if (i !== end) return undefined;
  // Up to 15 digits an integer is exact in a double, so the arithmetic result is the parse.
  if (simple && digits <= 15) return neg ? -acc : acc;
  const v = Number(b.toString('latin1', start, end));
  if (v === Infinity || v === -Infinity) return undefined; // Go: "value out of range"
  return v;
}

/** The Go-style reason why `b[start:end]` did not parse, for error messages. */
export function floatError(b: Buffer, start: number, end: number): string {
  const text = b.toString('utf8', start, Math.max(start, end));
  if (/[pP_]/.test(text)) return 'unsupported character in float';
  const reason = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? 'value out of range' : 'invalid syntax';
  return `strconv.ParseFloat: parsing ${JSON.stringify(text)}: ${reason}`;
}

/** Parses a JavaScript string as {@link parseFloatBytes} does (for label values such as `le`). */
export function parseFloatString(s: string): number | undefined {
  const b = Buffer.from(s, 'utf8');
  return parseFloatBytes(b, 0, b.length);
}

/**
 * Formats a float as Prometheus 3 writes `le` and `quantile` label values
 * (`labels.FormatOpenMetricsFloat`): Go's shortest `%g`, with `.0` appended when the result would
 * otherwise look like an integer. So `le="1"` and `le="1.0"` become the same series.
 */
export function formatOpenMetricsFloat(f: number): string {
  if (f === 1) return '1.0';
  if (f === 0) return '0.0';
  if (f === -1) return '-1.0';
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  const s = formatGoShortestG(f);
  return s.includes('.') || s.includes('e') ? s : s + '.0';
}

/** Go's `strconv.FormatFloat(f, 'g', -1, 64)` for finite, non-zero `f`. */
function formatGoShortestG(f: number): string {
  const sign = f < 0 ? '-' : '';
  // toExponential() without a precision gives the shortest round-tripping digits, like Go.
  const [mant, expStr] = Math.abs(f).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expStr);
  // Go uses %e when exp < -4 or exp >= 6 (precision 6 for the decision in shortest mode).
  if (exp < -4 || exp >= 6) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ae = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  const dp = exp + 1; // digits before the decimal point
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digits}`;
  if (dp >= digits.length) return `${sign}${digits}${'0'.repeat(dp - digits.length)}`;
  return `${sign}${digits.slice(0, dp)}.${digits.slice(dp)}`;
}
