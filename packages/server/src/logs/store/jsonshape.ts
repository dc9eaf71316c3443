/**
 * Splitting JSON lines into a shape and values (see columnar.ts): {@link splitJsonObject} parses a
 * line's top level as text; {@link splitAlong} checks a line against a known shape's literals,
 * which is faster. Neither unescapes anything: rebuilding from the pieces is byte-exact.
 */

/** Most top-level values per line for the columnar layout. */
export const MAX_SLOTS = 64;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The end of a bare value (a number, true, false or null) starting at `i`; -1 when it is malformed or empty. */
function bareEnd(b: Uint8Array, i: number, end: number): number {
  const s = i;
  while (i < end) {
    const d = b[i]!;
    if (d === 0x2c || d === 0x7d || isWs(d)) break;
    if (d === 0x22 || d === 0x7b || d === 0x5b || d === 0x5d || d === 0x3a || d < 0x20) return -1;
    i++;
  }
  return i === s ? -1 : i;
}

/** Index after the closing quote of a JSON string whose contents start at `i`, or -1. */
function skipString(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    if (STRING_SPECIAL[b[i]!] === 0) {
      i++;
      continue;
    }
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c === 0x5c) i += 2;
    else return -1;
  }
  return -1;
}

/** Bytes that end or escape a JSON string, or may not appear in one. */
const STRING_SPECIAL = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_SPECIAL[c] = 1;
STRING_SPECIAL[0x22] = 1;
STRING_SPECIAL[0x5c] = 1;

/** Index after the object or array starting at `i`, or -1. */
function skipNested(b: Uint8Array, i: number, end: number): number {
  let depth = 0;
  while (i < end) {
    const c = b[i]!;
    if (c === 0x22) {
      i = skipString(b, i + 1, end);
      if (i < 0) return -1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      if (--depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/**
 * Splits the JSON object in `b[a, end)` into top-level value ranges (`vs[j]`, `ve[j]`): string
 * contents, scalars, nested objects and arrays. Returns the number of values, or -1 when the line
 * is not a JSON object this splitter handles (the line then uses the plain layout).
 */
export function splitJsonObject(b: Uint8Array, a: number, end: number, vs: Int32Array, ve: Int32Array): number {
  let i = a;
  while (i < end && isWs(b[i]!)) i++;
  if (i >= end || b[i] !== 0x7b) return -1;
  i++;
  while (i < end && isWs(b[i]!)) i++;
  if (i < end && b[i] === 0x7d) {
    i++;
    while (i < end && isWs(b[i]!)) i++;
    return i === end ? 0 : -1;
  }
  let k = 0;
  for (;;) {
    while (i < end && isWs(b[i]!)) i++;
    if (i >= end || b[i] !== 0x22) return -1;
    i = skipString(b, i + 1, end);
    if (i < 0) return -1;
    while (i < end && isWs(b[i]!)) i++;
    if (i >= end || b[i] !== 0x3a) return -1;
    i++;
    while (i < end && isWs(b[i]!)) i++;
    if (i >= end || k === MAX_SLOTS) return -1;
    const c = b[i]!;
    if (c === 0x22) {
      const e = skipString(b, i + 1, end);
      if (e < 0) return -1;
      vs[k] = i + 1;
      ve[k] = e - 1;
      i = e;
    } else if (c === 0x7b || c === 0x5b) {
      const e = skipNested(b, i, end);
      if (e < 0) return -1;
      vs[k] = i;
      ve[k] = e;
      i = e;
    } else {
      const e = bareEnd(b, i, end);
      if (e < 0) return -1;
      vs[k] = i;
      ve[k] = e;
      i = e;
    }
    k++;
    while (i < end && isWs(b[i]!)) i++;
    if (i >= end) return -1;
    if (b[i] === 0x2c) {
      i++;
      continue;
    }
    if (b[i] !== 0x7d) return -1;
    i++;
    while (i < end && isWs(b[i]!)) i++;
    return i === end ? k : -1;
  }
}

/**
 * Splits a line along a known shape's literals (`lits`, k+1 of them); returns k, or -1 when the
 * line does not have that shape. Faster than {@link splitJsonObject}: literal bytes are compared,
 * not parsed. Any split that matches every literal rebuilds the line exactly.
 */
export function splitAlong(
  lits: readonly Buffer[],
  words: readonly Int32Array[],
  dv: DataView,
  b: Uint8Array,
  a: number,
  end: number,
  vs: Int32Array,
  ve: Int32Array,
): number {
  const k = lits.length - 1;
  let p = a;
  for (let j = 0; ; j++) {
    const lit = lits[j]!;
    const len = lit.length;
    if (p + len > end) return -1;
    // Four bytes at a time, then the rest.
    const w = words[j]!;
    const nw = w.length;
    for (let x = 0; x < nw; x++) if (dv.getInt32(p + 4 * x, true) !== w[x]) return -1;
    for (let x = nw * 4; x < len; x++) if (b[p + x] !== lit[x]) return -1;
    p += len;
    if (j === k) return p === end ? k : -1;
    if (len > 0 && lit[len - 1] === 0x22) {
      const e = skipString(b, p, end);
      if (e < 0) return -1;
      vs[j] = p;
      ve[j] = e - 1;
      p = e - 1;
      continue;
    }
    if (p >= end) return -1;
    const c = b[p]!;
    if (c === 0x7b || c === 0x5b) {
      const e = skipNested(b, p, end);
      if (e < 0) return -1;
      vs[j] = p;
      ve[j] = e;
      p = e;
      continue;
    }
    const e = bareEnd(b, p, end);
    if (e < 0) return -1;
    vs[j] = p;
    ve[j] = e;
    p = e;
  }
}

export function wordsOf(lit: Buffer): Int32Array {
  const w = new Int32Array(lit.length >>> 2);
  for (let i = 0; i < w.length; i++) w[i] = lit.readInt32LE(4 * i);
  return w;
}
