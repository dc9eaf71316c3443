/**
 * The shared property for hostile-input fuzzing: a decoder or parser, given any input, either
 * returns or throws its own typed error (the one the HTTP layer turns into a 4xx), and does so
 * quickly. Anything else (a TypeError, a RangeError from a stack overflow, a hang) would surface as
 * a 500 or a stuck request, which is what these tests exist to catch.
 */
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';

/**
 * One fixed seed, so `npm test` is repeatable; FUZZ_SEED overrides it to explore, and FUZZ_RUNS
 * scales the run counts. fast-check prints the seed and shrink path of any failure, so a failure
 * seen with another seed reproduces by setting FUZZ_SEED to it.
 */
export const FUZZ_SEED = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : 0x5eed_19_07;
const RUN_SCALE = process.env['FUZZ_RUNS'] ? Number(process.env['FUZZ_RUNS']) : 1;

/** Per-call time bound: far above any honest decode of these small inputs, far below a hang. */
export const CALL_BUDGET_MS = 1000;

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Runs `fn(input)`; returns normally if it returned or threw an instance of `typed`, rethrows any
 * other exception, and throws if the call took longer than {@link CALL_BUDGET_MS}.
 */
export function typedOrOk<T>(fn: (input: T) => unknown, typed: ErrorClass | readonly ErrorClass[], input: T): 'ok' | 'typed' {
  const classes = Array.isArray(typed) ? (typed as readonly ErrorClass[]) : [typed as ErrorClass];
  let outcome: 'ok' | 'typed' = 'ok';
  const t0 = performance.now();
  try {
    fn(input);
  } catch (err) {
    if (!classes.some((c) => err instanceof c)) throw err;
    outcome = 'typed';
  }
  const ms = performance.now() - t0;
  // A bound on the call itself (not on fast-check's generation or shrinking), so slow CI only fails on a real blow-up.
  if (ms > CALL_BUDGET_MS) throw new Error(`call took ${ms.toFixed(0)} ms, over the ${CALL_BUDGET_MS} ms budget`);
  return outcome;
}

/** Asserts the typed-error-or-ok property for `numRuns` inputs from `arb`, with the fixed seed. */
export function fuzz<T>(arb: fc.Arbitrary<T>, fn: (input: T) => unknown, typed: ErrorClass | readonly ErrorClass[], numRuns: number): void {
  const counts = { ok: 0, typed: 0 };
  fc.assert(
    fc.property(arb, (input) => {
      counts[typedOrOk(fn, typed, input)]++;
    }),
    { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * RUN_SCALE)), verbose: fc.VerbosityLevel.None, includeErrorInReport: true },
  );
  // FUZZ_STATS=1 shows how many inputs got past the decoder, to check that an arbitrary is not all rejects.
  if (process.env['FUZZ_STATS']) console.log(`fuzz ${fn.name || 'anonymous'}: ${counts.ok} decoded, ${counts.typed} typed errors`);
}

/** Arbitrary bytes as a Buffer, including the empty one. */
export function bytes(maxLength = 512): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ maxLength }).map((u) => Buffer.from(u));
}

/** One edit to a byte string: flip bits of a byte, overwrite, insert, delete a span, truncate, or duplicate a span. */
type Edit = { op: 'flip' | 'set' | 'insert' | 'delete' | 'truncate' | 'dup'; at: number; byte: number; len: number };

const edit: fc.Arbitrary<Edit> = fc.record({
  op: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate', 'dup'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
  len: fc.integer({ min: 1, max: 16 }),
});

function applyEdit(b: Buffer, e: Edit): Buffer {
  const at = b.length === 0 ? 0 : e.at % (b.length + 1);
  switch (e.op) {
    case 'flip':
      if (at < b.length) b[at] = b[at]! ^ (e.byte || 1);
      return b;
    case 'set':
      if (at < b.length) b[at] = e.byte;
      return b;
    case 'insert':
      return Buffer.concat([b.subarray(0, at), Buffer.alloc(e.len, e.byte), b.subarray(at)]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + e.len))]);
    case 'truncate':
      return b.subarray(0, at);
    case 'dup':
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + e.len), b.subarray(at)]);
  }
}

/** `valid` (an arbitrary of well-formed encodings) with 1–4 random edits applied to a copy. */
export function mutated(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([b, edits]) => edits.reduce(applyEdit, Buffer.from(b)));
}

/** Same as {@link mutated}, for text: edits the UTF-8 bytes and decodes them again (lossily, as an HTTP body would be). */
export function mutatedText(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return mutated(valid.map((s) => Buffer.from(s, 'utf8'))).map((b) => b.toString('utf8'));
}

/** A protobuf writer for building valid messages to mutate: field tags, varints, and length-delimited fields. */
export const pb = {
  varint(n: number | bigint): Buffer {
    let x = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    return Buffer.from(out);
  },
  /** A varint field. */
  vi(field: number, n: number | bigint): Buffer {
    return Buffer.concat([pb.varint(field * 8), pb.varint(n)]);
  },
  /** A length-delimited field: bytes, a string, or a nested message. */
  ld(field: number, body: Buffer | string): Buffer {
    const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    return Buffer.concat([pb.varint(field * 8 + 2), pb.varint(b.length), b]);
  },
  /** A fixed64 field. */
  f64(field: number, n: bigint): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, n));
    return Buffer.concat([pb.varint(field * 8 + 1), b]);
  },
  /** A double field. */
  dbl(field: number, v: number): Buffer {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    return Buffer.concat([pb.varint(field * 8 + 1), b]);
  },
  /** A fixed32 field. */
  f32(field: number, n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    return Buffer.concat([pb.varint(field * 8 + 5), b]);
  },
};

/**
 * Protobuf-shaped bytes with no schema: a sequence of fields with random numbers and wire types,
 * length-delimited ones nesting further fields up to a depth. Random bytes rarely get past the
 * first tag; these reach the decoders' field dispatch and nested-message paths.
 */
export const protoShaped: fc.Arbitrary<Buffer> = fc.letrec<{ msg: Buffer; field: Buffer }>((tie) => ({
  msg: fc.array(tie('field'), { maxLength: 6 }).map((fs) => Buffer.concat(fs)),
  field: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n })).map(([f, n]) => pb.vi(f, n)),
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })).map(([f, n]) => pb.f64(f, n)),
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.nat()).map(([f, n]) => pb.f32(f, n)),
    fc.tuple(fc.integer({ min: 1, max: 20 }), fc.string({ unit: 'binary', maxLength: 12 })).map(([f, s]) => pb.ld(f, s)),
    fc.tuple(fc.integer({ min: 1, max: 20 }), tie('msg')).map(([f, m]) => pb.ld(f, m as Buffer)),
  ),
})).msg;
