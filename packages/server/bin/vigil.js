#!/usr/bin/env node
// The compiled entry point; `npm install` builds dist/ through the root `prepare` script.
//
// `vigil start` runs the server in a worker thread whose V8 heap limit is set from the memory
// budget (--memory.budget, memory_budget:, else 75% of the machine's memory; see
// dist/server/cmd/memory.js), unless node was started with --max-old-space-size. A worker rather
// than a second node process: one process, so a kill -9 ends the server too and the pid in the
// data directory's lock stays the server's. This thread only relays signals and the exit code;
// stdout and stderr pass through.
import { fileURLToPath } from 'node:url';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

const argv = process.argv.slice(2);

function run(args) {
  return import('../dist/server/cmd/main.js').then(({ main }) => main(args));
}

const nodeFlags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const limitGiven = nodeFlags.some((a) => a.startsWith('--max-old-space-size'));
// Node's own semi-space flag wins over the young generation memory.js picks.
const semiSpaceGiven = nodeFlags.some((a) => a.startsWith('--max-semi-space-size'));

if (!isMainThread && workerData?.vigilServer === true) {
  // In the worker: run the server; the main thread turns the outcome into the exit code.
  run(workerData.argv).then(
    (code) => process.exit(typeof code === 'number' ? code : 0),
    (err) => {
      console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
} else {
  const { heapLimitMb, YOUNG_GENERATION_MB } = limitGiven ? { heapLimitMb: () => undefined } : await import('../dist/server/cmd/memory.js');
  const mb = heapLimitMb(argv);
  if (mb === undefined) {
    run(argv).then(
      (code) => {
        if (typeof code === 'number') process.exitCode = code;
      },
      (err) => {
        console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
        // A failed start has closed its files; end now rather than wait on stray timers or workers.
        process.exit(1);
      },
    );
  } else {
    const worker = new Worker(fileURLToPath(import.meta.url), {
      argv,
      workerData: { vigilServer: true, argv },
      // A small young generation keeps scavenges short while queries run (see YOUNG_GENERATION_MB).
      resourceLimits: { maxOldGenerationSizeMb: mb, ...(semiSpaceGiven ? {} : { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB }) },
    });
    let ended = false;
    // Kept until this process ends: a signal after the worker stopped must not kill it with a
    // different exit status than the worker's.
    const relay = (signal) => {
      if (!ended) worker.postMessage({ signal });
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, relay);
    worker.on('error', (err) => {
      // Past the heap limit V8 stops the worker (ERR_WORKER_OUT_OF_MEMORY): say so and fail.
      console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    });
    worker.on('exit', (code) => {
      ended = true;
      if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = code;
    });
  }
}
