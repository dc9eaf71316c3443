/**
 * Queries on which Vigil is known to answer differently from Prometheus where Prometheus 3.x
 * semantics agree with 2.42, i.e. bugs in Vigil's engine, with a diagnosis. They are compared like
 * every other query, but a mismatch is expected; the test fails when one of them starts to match,
 * so an entry is removed as soon as the bug is fixed.
 */
export const VIGIL_BUGS: Readonly<Record<string, string>> = {};
