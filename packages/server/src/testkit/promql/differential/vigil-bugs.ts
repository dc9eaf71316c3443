/**
 * Queries on which Vigil is known to answer differently from Prometheus where Prometheus 3.x
 * semantics agree with 2.42, i.e. bugs in Vigil's engine, with a diagnosis. They are compared like
 * every other query, but a mismatch is expected; the test fails when one of them starts to match,
 * so an entry is removed as soon as the bug is fixed.
 */
export const VIGIL_BUGS: Readonly<Record<string, string>> = {
  'hour(dt_special)':
    'date functions on NaN/±Inf: Vigil returns NaN; Prometheus (2.42 and 3.x alike, dateWrapper) converts with ' +
    "int64(v), which on amd64 gives MinInt64, so hour(-Inf) = 15. Prometheus's answer is Go-on-amd64 behaviour, " +
    'not a documented rule; matching it means mapping NaN/±Inf to -9223372036854775808 s before the date maths',
  'day_of_week(dt_special)': 'same as hour(dt_special): day_of_week(NaN) is 0 in Prometheus (int64(NaN) on amd64), NaN in Vigil',
};
