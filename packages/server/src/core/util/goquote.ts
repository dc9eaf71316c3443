/**
 * Go-compatible string quoting. Prometheus and Alertmanager print strings with Go's `%q`; matching
 * it byte for byte keeps error messages (durations, PromQL, rule files) identical to theirs, so it
 * lives in core where every layer can use it.
 *
 * Strings that came from PromQL byte escapes (`"\xff"`) may hold bytes that are not valid UTF-8.
 * JavaScript strings cannot hold raw bytes, so such a byte `b` is represented by the lone surrogate
 * `U+DC00 + b` (the "surrogateescape" convention). This keeps the value lossless: it prints back as
 * `\xff`, and {@link isValidUtf8} reports it as invalid, as Go's `utf8.ValidString` would.
 */
const HEX = '0123456789abcdef';
const PRINTABLE_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const LONE_SURROGATE_RE = /\p{Cs}/u;

/** True when `cp` is printable in the sense of Go's `strconv.IsPrint` (letters, marks, numbers, punctuation, symbols, space). */
export function isPrintable(cp: number): boolean {
  if (cp >= 0x20 && cp < 0x7f) return true;
  if (cp < 0xa1) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  return PRINTABLE_RE.test(String.fromCodePoint(cp));
}

/** True when `s` has no lone surrogates, i.e. it came from valid UTF-8 (see the module comment). */
export function isValidUtf8(s: string): boolean {
  return !LONE_SURROGATE_RE.test(s);
}

function hexPad(n: number, width: number): string {
  let out = '';
  for (let i = width - 1; i >= 0; i--) out += HEX[(n >>> (i * 4)) & 0xf];
  return out;
}

/** Appends the escaped form of code point `cp` inside a literal quoted with `quote`, as Go's strconv does. */
function escapeCodePoint(cp: number, quote: number): string {
  if (cp === quote || cp === 0x5c) return '\\' + String.fromCharCode(cp);
  if (isPrintable(cp)) return String.fromCodePoint(cp);
  switch (cp) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  // Surrogate-escaped raw bytes print as the byte they stand for.
  if (cp >= 0xdc80 && cp <= 0xdcff) return '\\x' + hexPad(cp - 0xdc00, 2);
  if (cp >= 0xd800 && cp <= 0xdfff) return '\\ufffd';
  if (cp < 0x20 || cp === 0x7f) return '\\x' + hexPad(cp, 2);
  if (cp < 0x10000) return '\\u' + hexPad(cp, 4);
  return '\\U' + hexPad(cp, 8);
}

/** Quotes `s` like Go's `strconv.Quote` / `%q`: double quotes, Go escapes, printable Unicode kept. */
export function goQuote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Fast path: plain printable ASCII other than the quote and backslash.
    if (c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c) {
      out += s[i];
      continue;
    }
    const cp = s.codePointAt(i)!;
    if (cp > 0xffff) i++;
    out += escapeCodePoint(cp, 0x22);
  }
  return out + '"';
}

/** Quotes one code point like Go's `strconv.QuoteRune` / `%q` on a rune, e.g. `'.'` or `'\''`. */
export function goQuoteRune(cp: number): string {
  if (cp < 0 || cp > 0x10ffff) return "'\uFFFD'";
  return "'" + escapeCodePoint(cp, 0x27) + "'";
}

/** Formats a code point like Go's `%#U`, e.g. `U+0063 'c'`. */
export function goUnicodeVerb(cp: number): string {
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return isPrintable(cp) ? `U+${hex} '${String.fromCodePoint(cp)}'` : `U+${hex}`;
}
