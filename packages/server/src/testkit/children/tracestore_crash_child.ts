/**
 * Test helper for the trace store's kill -9 tests (traces/store/crash.test.ts): appends numbered
 * batches (one trace of {@link CHILD_SPANS} spans each) to a store with tiny blocks, so cuts,
 * compactions and WAL removals all happen within a few dozen batches. Prints `acked N` once batch
 * N's append returned. Odd batches go in as OTLP ingest gives them (decoded from a protobuf body, the
 * body handed along, so the WAL logs the body as it came), even ones as spans alone (the WAL encodes
 * them): the crash points see both kinds of WAL record. VIGIL_CRASH_AT makes it SIGKILL itself at a
 * crash point; without one it stops after MAX_BATCHES.
 */
import { DEFAULT_TRACE_LIMITS } from '../../traces/ingest/limits.js';
import { decodeOtlpTracesProto } from '../../traces/ingest/otlp.js';
import { encodeTracesData } from '../../traces/ingest/otlp_encode.js';
import { TraceStore } from '../../traces/store/store.js';
import type { Span } from '../../traces/storage/types.js';

export const CHILD_SPANS = 5;
const MAX_BATCHES = 400;
const NOW_MS = 1_800_000_000_000;

/** The trace id of batch `b`. */
export const childTraceId = (b: number): string => (b + 1).toString(16).padStart(32, '0');

function batch(b: number): Span[] {
  const t = BigInt(NOW_MS - 60_000 + b) * 1_000_000n;
  const resource = { 'service.name': b % 2 ? 'odd' : 'even' };
  return Array.from({ length: CHILD_SPANS }, (_, i) => ({
    traceId: childTraceId(b),
    spanId: (b * 16 + i + 1).toString(16).padStart(16, '0'),
    parentSpanId: i === 0 ? '' : (b * 16 + 1).toString(16).padStart(16, '0'),
    name: `op ${i}`,
    kind: 'internal' as const,
    startTimeUnixNano: t + BigInt(i),
    endTimeUnixNano: t + BigInt(i) + 1000n,
    status: { code: 'unset' as const, message: '' },
    attributes: { batch: b, i },
    resource,
    scope: { name: 'crash', version: '1' },
    events: [],
    links: [],
  }));
}

function main(dir: string): void {
  const store = new TraceStore({ dir, now: () => NOW_MS, blockMaxSpans: 200, pageMaxSpans: 10, compactBelowSpans: 50, tickIntervalMs: 0 });
  store.start();
  let b = 0;
  const step = (): void => {
    if (b >= MAX_BATCHES) {
      store.stop();
      return;
    }
    if (b % 2) {
      const body = encodeTracesData(batch(b));
      store.append(decodeOtlpTracesProto(body, DEFAULT_TRACE_LIMITS).spans, { encoding: 'otlp-protobuf', bytes: body });
    } else store.append(batch(b));
    process.stdout.write(`acked ${b}\n`);
    b++;
    // A block every 4 batches (20 spans), written straight through or in the background by turns;
    // merges of small blocks on every 10th, the same.
    if (b % 8 === 0) store.cut();
    else if (b % 4 === 0) void store.cutInBackground();
    if (b % 20 === 0) store.tick();
    else if (b % 10 === 0) void store.tickInBackground();
    setImmediate(step);
  };
  step();
}

if (process.argv[2]) main(process.argv[2]);
