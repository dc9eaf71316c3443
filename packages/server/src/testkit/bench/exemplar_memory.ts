/**
 * Memory of a full exemplar buffer (issue 14's target: 100,000 exemplars in at most 20 MB): fills
 * memory-only storage of `max_exemplars: 100000` three times over from 1,000 histogram-bucket
 * series with 32-hex trace ids and 16-hex span ids, and prints one JSON line with the heap and
 * buffer growth. Run with `node --expose-gc`, so the figures are after collection.
 */
import { labelsFrom, type Labels } from '../../core/model/labels.js';
import { ExemplarStorage } from '../../metrics/exemplars/storage.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const hex = (n: number): string => n.toString(16).padStart(32, '0');
const series: Labels[] = [];
for (let s = 0; s < 100; s++) {
  for (const le of ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf']) {
    series.push(labelsFrom({ __name__: 'http_request_duration_seconds_bucket', job: `svc${s}`, instance: `10.0.0.${s}:8080`, le }));
  }
}
gc();
const before = process.memoryUsage();
const storage = new ExemplarStorage({ maxExemplars: 100_000 });
const t0 = performance.now();
const total = 300_000;
for (let i = 0; i < total; i += 100) {
  const batch = [];
  for (let k = 0; k < 100; k++) {
    const n = i + k;
    batch.push({
      seriesLabels: series[n % series.length]!,
      labels: labelsFrom({ trace_id: hex(n), span_id: hex(n).slice(16) }),
      value: 0.1,
      ts: 1_700_000_000_000 + n,
    });
  }
  storage.append(batch);
}
const ms = performance.now() - t0;
gc();
const after = process.memoryUsage();
const bytes = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
process.stdout.write(
  `${JSON.stringify({ exemplars: storage.size, series: storage.seriesCount, bytes, mib: +(bytes / 2 ** 20).toFixed(1), appendsPerSec: Math.round((total / ms) * 1000) })}\n`,
);
