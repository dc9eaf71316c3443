/**
 * Token bloom filters: each sealed log chunk keeps one, so a search for a rare token (a request id, an
 * order id, an error code) opens only the few chunks that may hold it; each trace block page keeps
 * one of its service names, span names and attribute values ({@link tokenHash} of each). Tokens are the maximal runs
 * of ASCII letters and digits; hashing walks the characters once, so no token string is made.
 */

/** FNV-1a offset basis; the hash of the empty token. */
const FNV_BASIS = 0x811c9dc5;

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c >= 128;
}

/** Calls `fn` with the 32-bit hash of every token of `s` at least `minLen` characters long. */
export function forEachTokenHash(s: string, fn: (h: number) => void, minLen = 2): void {
  let h = FNV_BASIS;
  let len = 0;
  const n = s.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0;
    if (i < n && isAlnum(c)) {
      h = Math.imul(h ^ c, 0x01000193);
      len++;
      continue;
    }
    if (len >= minLen) fn(h >>> 0);
    h = FNV_BASIS;
    len = 0;
  }
}

/** The 32-bit hash {@link forEachTokenHash} gives `token` (which must be one token). */
export function tokenHash(token: string): number {
  let h = FNV_BASIS;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The tokens of a substring needle that must appear whole in any line containing it. A token at
 * the needle's edge may be part of a longer token in the line (`bc1` inside `abc123`), so it counts
 * only when the needle is known to be a complete value (`whole`) or the edge is a delimiter.
 */
export function safeTokens(needle: string, whole = false, minLen = 2): string[] {
  const out: string[] = [];
  const re = /[A-Za-z0-9\u0080-\uffff]+/g;
  for (let m = re.exec(needle); m !== null; m = re.exec(needle)) {
    const start = m.index;
    const end = start + m[0].length;
    if (m[0].length < minLen) continue;
    if (!whole && (start === 0 || end === needle.length)) continue;
    out.push(m[0]);
  }
  return out;
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 1;
}

/** A fixed-size bloom filter over 32-bit token hashes (double hashing, `k` probes). */
export class Bloom {
  readonly bits: Uint32Array;
  readonly k: number;
  private readonly m: number;

  private readonly inv: number;

  constructor(bits: Uint32Array, k: number) {
    this.bits = bits;
    this.k = k;
    this.m = bits.length * 32;
    this.inv = 1 / this.m;
  }

  /** `x % m` for a uint32 `x`, without a floating-point modulo (the same result). */
  private bit(x: number): number {
    const m = this.m;
    let r = x - Math.floor(x * this.inv) * m;
    if (r < 0) r += m;
    else if (r >= m) r -= m;
    return r;
  }

  /** A filter sized for `n` distinct tokens at about 1-2% false positives. */
  static forCount(n: number): Bloom {
    const words = Math.max(8, Math.ceil((n * 10) / 32));
    return new Bloom(new Uint32Array(words), 6);
  }

  add(h: number): void {
    const h2 = mix(h);
    for (let i = 0; i < this.k; i++) {
      const bit = this.bit((h + Math.imul(i, h2)) >>> 0);
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  has(h: number): boolean {
    const h2 = mix(h);
    for (let i = 0; i < this.k; i++) {
      const bit = this.bit((h + Math.imul(i, h2)) >>> 0);
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }

  /** True when every token may be present (false means at least one is certainly absent). */
  hasAll(hashes: readonly number[]): boolean {
    for (const h of hashes) if (!this.has(h)) return false;
    return true;
  }
}

/** Builds the bloom filter of a set of lines. */
export function bloomOfLines(lines: readonly string[]): Bloom {
  const seen = new Set<number>();
  const add = (h: number): void => {
    seen.add(h);
  };
  for (const l of lines) forEachTokenHash(l, add);
  const b = Bloom.forCount(seen.size);
  for (const h of seen) b.add(h);
  return b;
}
