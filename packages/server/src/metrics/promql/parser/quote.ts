/**
 * Go-compatible quoting and number formatting. Prometheus prints strings with Go's `%q` and numbers
 * with `strconv.FormatFloat(v, 'f', -1, 64)`; matching them byte for byte keeps `format_query`
 * output and error messages identical to Prometheus.
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

/** Go's float formatting is shared with LogQL: it lives in core. */
export { formatFloat } from '../../../core/eval/format.js';

/** Formats a float like Go's `%f` (six decimals), used in a few Prometheus error messages. */
export function formatGoFixed6(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Math.abs(v) < 1e21) return v.toFixed(6);
  // Beyond 1e21 toFixed switches to exponent notation; such values are integers anyway.
  return BigInt(v).toString() + '.000000';
}

/**
 * Decodes the value of a `STRING` token (`"…"`, `'…'` or `` `…` ``) with Go's escaping rules. Byte
 * escapes (`\xNN`, `\NNN`) form UTF-8 byte sequences; bytes that are not valid UTF-8 are kept as
 * `U+DC00 + byte` (see `quote.ts`). The token must come from the lexer, which validated it.
 */
export function unquoteString(raw: string): string {
  const quote = raw.charCodeAt(0);
  const body = raw.slice(1, -1);
  if (quote === 0x60 || !body.includes('\\')) return body;
  let out = '';
  let bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length > 0) {
      out += decodeUtf8Lossless(bytes);
      bytes = [];
    }
  };
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 0x5c) {
      flushBytes();
      out += body[i];
      continue;
    }
    const e = body.charCodeAt(++i);
    switch (e) {
      case 0x61:
        flushBytes();
        out += '\x07';
        continue;
      case 0x62:
        flushBytes();
        out += '\b';
        continue;
      case 0x66:
        flushBytes();
        out += '\f';
        continue;
      case 0x6e:
        flushBytes();
        out += '\n';
        continue;
      case 0x72:
        flushBytes();
        out += '\r';
        continue;
      case 0x74:
        flushBytes();
        out += '\t';
        continue;
      case 0x76:
        flushBytes();
        out += '\v';
        continue;
      case 0x78: // \xNN: one byte
        bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
        continue;
      case 0x75: // \uNNNN
        flushBytes();
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16));
        i += 4;
        continue;
      case 0x55: // \UNNNNNNNN
        flushBytes();
        out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
        i += 8;
        continue;
    }
    if (e >= 0x30 && e <= 0x37) {
      // \NNN: one byte in octal.
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
      continue;
    }
    // \\, \" or \'.
    flushBytes();
    out += body[i];
  }
  flushBytes();
  return out;
}

/** Decodes UTF-8 bytes; each byte of an invalid sequence becomes `U+DC00 + byte`. */
function decodeUtf8Lossless(bytes: readonly number[]): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    let need = 0;
    let cp = 0;
    let min = 0;
    if (b0 < 0x80) {
      out += String.fromCharCode(b0);
      i++;
      continue;
    } else if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      min = 0x10000;
    }
    let ok = need > 0 && i + need < bytes.length;
    if (ok) {
      for (let k = 1; k <= need; k++) {
        const b = bytes[i + k];
        if (b === undefined || (b & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        cp = (cp << 6) | (b & 0x3f);
      }
    }
    if (ok && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      out += String.fromCodePoint(cp);
      i += need + 1;
    } else {
      out += String.fromCharCode(0xdc00 + b0);
      i++;
    }
  }
  return out;
}
