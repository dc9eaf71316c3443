/**
 * Number formatting both query languages share: sample values become label values
 * (`count_values`) and appear in error messages and API responses in Go's notation.
 */

/**
 * Formats a float like Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that round-trip,
 * never in exponent notation, `+Inf`, `-Inf` and `NaN` for the special values.
 */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = String(v);
  if (!s.includes('e')) return s;
  // toExponential() without an argument yields the shortest round-trip digits.
  const exp = v.toExponential();
  const neg = exp.startsWith('-');
  const body = neg ? exp.slice(1) : exp;
  const ePos = body.indexOf('e');
  const mantissa = body.slice(0, ePos).replace('.', '');
  const e = Number(body.slice(ePos + 1));
  let out: string;
  if (e >= 0) {
    out = mantissa.length > e + 1 ? mantissa.slice(0, e + 1) + '.' + mantissa.slice(e + 1) : mantissa + '0'.repeat(e + 1 - mantissa.length);
  } else {
    out = '0.' + '0'.repeat(-e - 1) + mantissa;
  }
  return neg ? '-' + out : out;
}
