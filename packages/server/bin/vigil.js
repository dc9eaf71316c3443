#!/usr/bin/env node
// The compiled entry point; `npm install` builds dist/ through the root `prepare` script.
import { main } from '../dist/server/cmd/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    console.error(`vigil: ${err instanceof Error ? err.message : String(err)}`);
    // A failed start has closed its files; end now rather than wait on stray timers or workers.
    process.exit(1);
  },
);
