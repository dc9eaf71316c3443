/**
 * Appends that leave a file whole. A write that fails part-way (ENOSPC, EIO) would leave a torn
 * record that later appends land behind, so the file is cut back to its size before the write
 * before the error goes up. The I/O seam ({@link LogIo}) lets tests fail a write after N bytes
 * without a full disk. Shared by the log and trace stores.
 */
import * as fs from 'node:fs';

/** The one write call the log and trace stores make; node:fs by default. */
export interface LogIo {
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number): number;
}

/** The real file system. */
export const nodeIo: LogIo = { writeSync: (fd, buf, offset, length) => fs.writeSync(fd, buf, offset, length) };

/** An error with a file-system code, for writes that make no progress without throwing. */
function ioError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/**
 * Appends `data[0, len)` to `fd` (opened for append), whose size is `size`. On failure the file is
 * cut back to `size` and the error rethrown; the kernel has all the bytes when this returns (they
 * survive kill -9).
 */
export function appendAll(io: LogIo, fd: number, data: Uint8Array, size: number, len = data.length): void {
  let off = 0;
  try {
    while (off < len) {
      const n = io.writeSync(fd, data, off, len - off);
      // A write that returns 0 would loop forever; treat it as the device refusing bytes.
      if (n <= 0) throw ioError('EIO', 'write made no progress');
      off += n;
    }
  } catch (err) {
    try {
      fs.ftruncateSync(fd, size);
    } catch {
      // The cut failed too: the readers skip the torn bytes (framing resyncs; chunks are found by their index).
    }
    throw err;
  }
}

/** fsync, rethrowing as a write failure would (the data may not be durable). */
export function syncFd(fd: number): void {
  fs.fsyncSync(fd);
}
