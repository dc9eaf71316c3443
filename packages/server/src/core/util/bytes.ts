/**
 * A growable byte buffer for building binary records (WAL records, index files) without an object
 * per value. Reuse one across records with {@link ByteWriter.reset}.
 */
export class ByteWriter {
  buf: Buffer;
  length = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Empties the buffer, keeping its memory. */
  reset(): void {
    this.length = 0;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.length + n, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.length);
    this.buf = grown;
  }

  u8(x: number): void {
    this.reserve(1);
    this.buf[this.length++] = x;
  }

  u32(x: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(x >>> 0, this.length);
    this.length += 4;
  }

  f64(x: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(x, this.length);
    this.length += 8;
  }

  /** Unsigned LEB128 varint, for values up to 2^53. */
  uvarint(x: number): void {
    this.reserve(10);
    while (x >= 0x80) {
      this.buf[this.length++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    this.buf[this.length++] = x;
  }

  /** Signed integer as a zigzag varint, for values within ±2^52. */
  svarint(x: number): void {
    this.uvarint(x < 0 ? -2 * x - 1 : 2 * x);
  }

  /** A length-prefixed UTF-8 string. */
  str(s: string): void {
    const n = Buffer.byteLength(s);
    this.uvarint(n);
    this.reserve(n);
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** The bytes written, sharing memory with the buffer. */
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** Reads what {@link ByteWriter} writes; throws RangeError past the end. */
export class ByteReader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RangeError('unexpected end of record');
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const x = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return x;
  }

  f64(): number {
    this.need(8);
    const x = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return x;
  }

  uvarint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 128;
    }
    throw new RangeError('varint too long');
  }

  svarint(): number {
    const z = this.uvarint();
    return z % 2 === 1 ? -(z + 1) / 2 : z / 2;
  }

  /** Passes over a string written by `str`. */
  skipStr(): void {
    const n = this.uvarint();
    this.need(n);
    this.pos += n;
  }

  str(): string {
    const n = this.uvarint();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }
}
