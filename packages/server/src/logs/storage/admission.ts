/**
 * Which lines a log store refuses, shared by every implementation so they refuse alike: lines too
 * far ahead of the clock (a wrong clock), too far behind their stream's newest line, or older than
 * retention. Checked per line without allocating unless the line is refused.
 */

const NS_PER_MS = 1_000_000n;

/** The bounds for one push, computed once from the clock. */
export interface AdmissionBounds {
  /** The newest acceptable time (ns). */
  readonly newestNs: bigint;
  /** How far behind its stream's newest line a line may be (ns). */
  readonly windowNs: bigint;
  /** The oldest acceptable time by retention (ns; -1 without retention). */
  readonly retentionFloorNs: bigint;
}

export function admissionBounds(nowMs: number, outOfOrderWindowMs: number, maxFutureMs: number, retentionMs: number): AdmissionBounds {
  const nowNs = BigInt(Math.floor(nowMs)) * NS_PER_MS;
  return {
    newestNs: nowNs + BigInt(maxFutureMs) * NS_PER_MS,
    windowNs: BigInt(outOfOrderWindowMs) * NS_PER_MS,
    retentionFloorNs: retentionMs > 0 ? nowNs - BigInt(retentionMs) * NS_PER_MS : -1n,
  };
}

/**
 * Why a line at `t` is refused from a stream whose newest line is at `streamMaxT` (-1: none yet),
 * or undefined when it is accepted. The future check comes first: a line from a wrong clock must
 * not become the stream's newest and then refuse current lines.
 */
export function refusal(t: bigint, streamMaxT: bigint, b: AdmissionBounds): string | undefined {
  if (t > b.newestNs) return `entry too far in the future, newest acceptable timestamp is ${b.newestNs}`;
  if (streamMaxT >= 0n && t < streamMaxT - b.windowNs) return `entry too far behind, oldest acceptable timestamp is ${streamMaxT - b.windowNs}`;
  if (t < b.retentionFloorNs) return 'entry older than the retention period';
  return undefined;
}

/** Why lines of a new stream are refused when the store holds its most streams. */
export function streamLimitReason(maxStreams: number): string {
  return `stream limit max_streams (${maxStreams} streams) reached: lines of new streams are refused, existing streams still accepted`;
}
