/** `vigil tsdb verify DIR`, `vigil logs verify DIR` and `vigil traces verify DIR`: read-only integrity checks of a data directory. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyLogs } from './logs_verify.js';
import { verifyTsdb } from './tsdb_verify.js';
import { verifyTraces } from '../../traces/store/verify.js';

const USAGE = 'usage: vigil tsdb verify DIR | vigil logs verify DIR | vigil traces verify DIR (DIR: the data directory, storage.path)\n';

/** Runs a verify command if `argv` is one; undefined otherwise. Exit code 0: clean, 1: damage found, 2: usage. */
export function verifyCommand(argv: readonly string[]): number | undefined {
  const [signal, verb, dir, ...rest] = argv;
  if ((signal !== 'tsdb' && signal !== 'logs' && signal !== 'traces') || verb !== 'verify') return undefined;
  if (!dir || rest.length > 0) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    process.stderr.write(`vigil: ${dir}: not a directory\n`);
    return 2;
  }
  const print = (line: string): void => void process.stdout.write(line + '\n');
  if (signal === 'traces') {
    // The trace store lives in <data>/traces; the trace directory itself is accepted too.
    const traces = fs.existsSync(path.join(dir, 'traces')) ? path.join(dir, 'traces') : dir;
    if (!fs.existsSync(path.join(traces, 'wal')) && !fs.existsSync(path.join(traces, 'blocks'))) {
      process.stderr.write(`vigil: ${dir}: no trace store (traces/wal/, traces/blocks/) here; is it a Vigil data directory?\n`);
      return 2;
    }
    return verifyTraces(traces, print);
  }
  // The log store lives in <data>/logs; the log directory itself is accepted too.
  const logs = fs.existsSync(path.join(dir, 'logs')) && !fs.existsSync(path.join(dir, 'streams')) ? path.join(dir, 'logs') : dir;
  // A directory with nothing of Vigil's in it is a mistyped path, not a clean store.
  const marks = signal === 'tsdb' ? [path.join(dir, 'wal'), path.join(dir, 'blocks')] : [path.join(logs, 'streams'), path.join(logs, 'wal')];
  if (!marks.some((m) => fs.existsSync(m))) {
    process.stderr.write(
      `vigil: ${dir}: no ${signal === 'tsdb' ? 'metrics (wal/, blocks/)' : 'log store (streams, wal/)'} here; is it a Vigil data directory?\n`,
    );
    return 2;
  }
  return signal === 'tsdb' ? verifyTsdb(dir, print) : verifyLogs(logs, print);
}
