/**
 * The hash behind a rule group's evaluation offset within its interval: Prometheus' `labels.Hash`
 * of `{file=…, name=…}`, so a group is evaluated at the offset Prometheus would pick for the same
 * file and name.
 */
import { labelsHash } from '../../core/util/xxhash64.js';

/** Prometheus' `labels.Hash` of `{file=…, name=…}`: the group hash behind its evaluation offset. */
export function groupHash(file: string, name: string): bigint {
  return labelsHash([
    { name: 'file', value: file },
    { name: 'name', value: name },
  ]);
}
