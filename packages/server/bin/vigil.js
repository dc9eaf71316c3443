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
import { setFlagsFromString } from 'node:v8';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

const argv = process.argv.slice(2);

function run(args) {
  return import('../dist/server/cmd/main.js').then(({ main }) => main(args));
}

const nodeFlags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const limitGiven = nodeFlags.some((a) => a.startsWith('--max-old-space-size'));
// Node's own semi-space flag wins over the young generation memory.js picks.
const semiSpaceGiven = nodeFlags.some((a) => a.startsWith('--max-semi-space-size'));
// Node's own memory-reducer flag, likewise.
const reducerGiven = nodeFlags.some((a) => a.endsWith('memory-reducer'));
// Node's own size-over-speed flag, likewise (the agent sets it otherwise).
const sizeGiven = nodeFlags.some((a) => a.endsWith('optimize-for-size'));
// And its heap growing factor.
const growingGiven = nodeFlags.some((a) => a.startsWith('--heap-growing-percent') || a.startsWith('--heap_growing_percent'));

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
    // V8's memory reducer, once allocation slows down (a paced flush does), runs a full GC to
    // shrink the heap, and not incrementally: over the 2 GB heap of 1.5 million head series it
    // stopped the thread for 41 s (stalls bench). A server with a memory budget has no need to
    // give memory back; ordinary major GCs still run, incrementally. Set before the worker's heap
    // exists, so the worker is created with it.
    if (!reducerGiven) setFlagsFromString('--no-memory-reducer');
    // An agent is judged by its memory next to Prometheus' agent: V8's size-over-speed mode
    // (smaller heap growth steps, leaner code) took 5-10 MiB off its peak RSS at 40,000 scraped
    // series, for about 10% more CPU per sample (README, "Agents and sharded scraping").
    if (argv[0] === 'agent' && !sizeGiven) setFlagsFromString('--optimize-for-size');
    // A heap that only grows slowly (a scrape promotes a little every second) is otherwise given a
    // limit barely above what the last full GC left, and marked again and again: a third of the
    // CPU of scraping 10,000 series a second went to major GCs. Twice the live heap before the next
    // one, as Go's default GOGC=100 lets Prometheus' heap grow (about 20% less CPU per scrape, bench
    // scrape.js; the heap limit and the heap watch still bound it). Not for an agent, which is
    // judged by its memory.
    if (argv[0] !== 'agent' && !growingGiven) setFlagsFromString('--heap-growing-percent=100');
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
