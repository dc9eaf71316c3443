/**
 * Constants of the columnar chunk layout (see columnar.ts) that its writer and reader share: the
 * first-byte flag, the column kinds and the digit tables of the packed kinds.
 */

/** First-byte flag of a columnar chunk (the low bits hold the codec id). */
export const COLUMNAR_FLAG = 0x40;

export const KIND_RAW = 0;
export const KIND_DICT = 1;
/** Canonical decimals with a shared prefix and scale (`u-123`, `4.50`): binary integers. */
export const KIND_DEC = 2;
/** Fixed-length lowercase hex with a shared prefix (`req-9f86d081884c`): binary bytes. */
export const KIND_HEX = 3;
export const HEX_VAL = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX_VAL[48 + c] = c;
for (let c = 0; c < 6; c++) HEX_VAL[97 + c] = 10 + c;
export const HEX_DIGITS = Buffer.from('0123456789abcdef');

export const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
