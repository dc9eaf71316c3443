/**
 * Queries left out of the differential comparison because Prometheus 2.42 (the peer Debian ships)
 * and Prometheus 3.x (which Vigil follows) answer them differently by design. Each entry names the
 * documented change. Keep this list short: prefer shaping the data or the query so the difference
 * cannot show (see the notes on timestamps in data.ts and queries.ts). The test fails when an entry
 * no longer matches a generated query, so the list cannot rot.
 */
export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  // 2.46 made atan2 drop __name__ like the other arithmetic operators (prometheus/prometheus#12595);
  // 2.42 keeps it. The values are compared by nameless variants of these queries in queries.ts.
  'dt_queue_length atan2 10': 'atan2 drops the metric name since 2.46 (prometheus#12595); 2.42 keeps it',
  '3 atan2 dt_temperature_celsius': 'atan2 drops the metric name since 2.46 (prometheus#12595); 2.42 keeps it',
  'dt_cpu_seconds_total{mode="user"} atan2 ignoring(mode) dt_cpu_seconds_total{mode="system"}':
    'atan2 drops the metric name since 2.46 (prometheus#12595); 2.42 keeps it',
  // dt_special{kind="plain"} is a gauge that starts inside the first windows and falls, so rate()'s
  // zero-point limit applies there: 2.51 changed it to act after the half-interval cut-off.
  'rate(dt_special[5m])': 'rate extrapolation towards the zero point changed in 2.51 (prometheus#13725)',
  // Groups here hold one series each, at times when dt_special{kind="nan"} is NaN and kind="inf" ±Inf.
  'stdvar without (instance, job) (dt_special)':
    'stdvar/stddev of a group of one NaN or ±Inf is NaN since 3.0 (prometheus#14941, promqltest aggregators.test); 2.42 returns 0',
};
