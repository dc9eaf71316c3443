/**
 * Go-compatible number formatting and PromQL string unquoting. Prometheus prints numbers with
 * `strconv.FormatFloat(v, 'f', -1, 64)`; matching it byte for byte keeps `format_query` output
 * identical to Prometheus. Quoting (`%q`) lives in core/util/goquote.ts.
 */

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
