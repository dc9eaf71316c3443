/**
 * CRC-32 (IEEE) over bytes. Uses zlib's native implementation where Node has it (20.15 and later)
 * and a table-driven one otherwise, so every supported Node version reads the same files.
 */
import * as zlib from 'node:zlib';

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

let table: Uint32Array | undefined;

function tableCrc32(data: Uint8Array, prev = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let crc = (prev ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The CRC-32 checksum of `data`; with `prev`, of the bytes that gave `prev` followed by `data`. */
export function crc32(data: Uint8Array, prev = 0): number {
  return native ? native(data, prev) >>> 0 : tableCrc32(data, prev);
}

/** The table-driven implementation, exported so tests can check it against the native one. */
export const crc32Portable = tableCrc32;
