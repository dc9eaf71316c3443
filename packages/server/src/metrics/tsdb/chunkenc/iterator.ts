/** What chunk iterators share: decoding runs forward only, so seeking is reading on. */
import type { SampleIterator } from '../../storage/interface.js';

/** Base of the chunk iterators; subclasses decode in `next()` and keep `curT` and `read` current. */
export abstract class ForwardChunkIterator implements SampleIterator {
  /** Timestamp of the current sample. */
  protected curT = 0;
  /** Samples decoded so far. */
  protected read = 0;

  abstract next(): boolean;
  abstract v(): number;

  seek(t: number): boolean {
    if (this.read > 0 && this.curT >= t) return true;
    while (this.next()) if (this.curT >= t) return true;
    return false;
  }

  t(): number {
    return this.curT;
  }
}
