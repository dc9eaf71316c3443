/**
 * Sample values. Prometheus marks a series as gone with one particular NaN bit pattern, the
 * staleness marker; every other NaN is an ordinary value.
 */

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);

/** High and low 32-bit words of the staleness marker 0x7ff0000000000002. */
export const STALE_HI = 0x7ff00000;
/** Low word of the staleness marker. */
export const STALE_LO = 0x00000002;

scratchWords[0] = STALE_LO;
scratchWords[1] = STALE_HI;
/** The staleness marker as a number. Compare with {@link isStaleNaN}, never with `===`. */
export const STALE_NAN: number = scratch[0]!;

/**
 * True when `v` carries the staleness marker's payload. The quiet bit is ignored because a CPU
 * may set it when the value passes through a floating-point register.
 */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false;
  scratch[0] = v;
  return scratchWords[0] === STALE_LO && (scratchWords[1]! & 0xfff7ffff) === STALE_HI;
}
