/** Compression codecs of chunk sections. */
import * as zlib from 'node:zlib';

/** Compression codecs for sealed chunks. */
export const CODECS = ['deflate', 'brotli', 'none'] as const;
/** One of {@link CODECS}. */
export type Codec = (typeof CODECS)[number];

/** The id each codec has in a chunk's first byte. */
export const CODEC_ID: Record<Codec, number> = { none: 0, deflate: 1, brotli: 2 };

/** Compresses `raw` (no header). */
export function compressBody(raw: Uint8Array, codec: Codec, level: number): Buffer {
  switch (codec) {
    case 'none':
      return Buffer.from(raw);
    case 'deflate':
      return zlib.deflateRawSync(raw, { level });
    case 'brotli':
      return zlib.brotliCompressSync(raw, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: level,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
          [zlib.constants.BROTLI_PARAM_LGWIN]: Math.max(16, Math.min(24, Math.ceil(Math.log2(raw.length + 1)) + 1)),
        },
      });
  }
}

/** Reverses {@link compressBody} for the codec with id `codecId`. */
export function decompressBody(body: Buffer, codecId: number, rawLen?: number): Buffer {
  switch (codecId) {
    case 0:
      return body;
    case 1:
      return rawLen !== undefined ? zlib.inflateRawSync(body, { maxOutputLength: Math.max(rawLen, 1) }) : zlib.inflateRawSync(body);
    case 2:
      return zlib.brotliDecompressSync(body);
    default:
      throw new Error(`unknown chunk codec ${codecId}`);
  }
}
