/**
 * Resource limits of the helper threads a store starts (the block writer, the snappy decoder).
 * Each worker thread is an isolate with its own young generation, which V8 otherwise lets grow to
 * three 16 MiB semi-spaces; a helper that makes a lot of short-lived garbage (the block writer
 * converting a head's chunks) then keeps most of that resident as long as it lives. Its survivors
 * are few, so small semi-spaces cost it little.
 */
import type { ResourceLimits } from 'node:worker_threads';

/** The young generation of a helper thread, MiB (V8 makes it three semi-spaces). */
export const HELPER_YOUNG_GENERATION_MB = 6;

/** The limits a helper thread is created with. */
export const HELPER_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: HELPER_YOUNG_GENERATION_MB };
