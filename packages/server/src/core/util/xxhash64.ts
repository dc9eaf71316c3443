/**
 * XXH64 (seed 0), the hash Prometheus' `labels.Labels.Hash()` uses. PromQL's `limit_ratio` picks a
 * series when its label hash, as a fraction of 2^64, falls in the ratio: the same hash picks the
 * same series Prometheus picks. BigInt arithmetic: it runs once per series and step of a
 * `limit_ratio`, never on an ingest path.
 */
const MASK = (1n << 64n) - 1n;
const utf8 = new TextEncoder();
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

function rotl(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & MASK;
}

function round(acc: bigint, input: bigint): bigint {
  acc = (acc + input * P2) & MASK;
  return (rotl(acc, 31n) * P1) & MASK;
}

function mergeRound(acc: bigint, val: bigint): bigint {
  acc ^= round(0n, val);
  return (acc * P1 + P4) & MASK;
}

/** XXH64 of `b` with seed 0. */
export function xxhash64(b: Uint8Array): bigint {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = b.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (P1 + P2) & MASK;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (MASK + 1n - P1) & MASK;
    for (; p + 32 <= len; p += 32) {
      v1 = round(v1, view.getBigUint64(p, true));
      v2 = round(v2, view.getBigUint64(p + 8, true));
      v3 = round(v3, view.getBigUint64(p + 16, true));
      v4 = round(v4, view.getBigUint64(p + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else h = P5;
  h = (h + BigInt(len)) & MASK;
  for (; p + 8 <= len; p += 8) {
    h ^= round(0n, view.getBigUint64(p, true));
    h = (rotl(h, 27n) * P1 + P4) & MASK;
  }
  if (p + 4 <= len) {
    h ^= (BigInt(view.getUint32(p, true)) * P1) & MASK;
    h = (rotl(h, 23n) * P2 + P3) & MASK;
    p += 4;
  }
  for (; p < len; p++) {
    h ^= (BigInt(b[p]!) * P5) & MASK;
    h = (rotl(h, 11n) * P1) & MASK;
  }
  h ^= h >> 33n;
  h = (h * P2) & MASK;
  h ^= h >> 29n;
  h = (h * P3) & MASK;
  h ^= h >> 32n;
  return h;
}

/**
 * Prometheus' `labels.Labels.Hash()`: XXH64 of every name and value, each followed by a 0xff byte
 * (a byte no UTF-8 text holds, so no two label sets share their bytes), in the order given.
 */
export function labelsHash(labels: ReadonlyArray<{ readonly name: string; readonly value: string }>): bigint {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (const l of labels) {
    for (const s of [l.name, l.value]) {
      const b = utf8.encode(s);
      parts.push(b);
      n += b.length + 1;
    }
  }
  const buf = new Uint8Array(n);
  let at = 0;
  for (const b of parts) {
    buf.set(b, at);
    at += b.length;
    buf[at++] = 0xff;
  }
  return xxhash64(buf);
}
