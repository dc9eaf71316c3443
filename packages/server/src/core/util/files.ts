/** Reading the files users point Vigil at. */
import * as fs from 'node:fs';

/** Reads a text file; a failure becomes the caller's error type with a short reason (ENOENT, EACCES…). */
export function readTextFile(file: string, error: (detail: string) => Error): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw error(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
