/**
 * What the head's appender (head.ts) and the agent's (agent_appender.ts) check alike on append:
 * a sample at or before the batch's latest for its series is a resend (the same value) or refused,
 * and messages show timestamps as dates.
 */
import { StorageError } from '../../core/errors.js';
import { formatLabels, type Labels } from '../../core/model/labels.js';
import { isStaleNaN } from '../../core/model/value.js';

/** A timestamp for a message; past the range a Date can show (±275,000 years) it stays a number. */
export function isoTime(t: number): string {
  return Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : `${t} ms`;
}

/** Two float values that are one sample sent twice: equal, or both NaN of the same kind (a staleness marker or not). */
export function sameValue(a: number, b: number): boolean {
  if (a === b) return true;
  return a !== a && b !== b && isStaleNaN(a) === isStaleNaN(b);
}

/** The refusal of a sample at `t`, at or before `latest` of its series, that is not a resend of it. */
export function orderRefusal(t: number, latest: number, labels: Labels): StorageError {
  if (t === latest)
    return new StorageError('duplicate_sample', `duplicate sample for timestamp ${isoTime(t)} with a different value for ${formatLabels(labels)}`);
  return new StorageError('out_of_order', `out of order sample: ${isoTime(t)} is before the latest sample ${isoTime(latest)} of ${formatLabels(labels)}`);
}

/** A batch's sample buffer, doubled (at least 256). */
export function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(Math.max(256, a.length * 2));
  b.set(a);
  return b;
}
