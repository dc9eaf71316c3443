/**
 * A minimal RFC 6455 WebSocket server side for live tail: the handshake, unmasked server text
 * frames, and reading the client's (masked) close and ping frames. No extensions, no fragmentation
 * of what we send.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Bounds on one connection, so a client cannot make the server hold unbounded memory. */
export interface WsLimits {
  /**
   * Largest frame accepted from the client. Tail clients send only close and ping frames (at most
   * 125 bytes each); a frame declaring more is refused before any of it is buffered.
   */
  readonly maxFrameBytes?: number;
  /** Bytes queued for a client that does not read before it is dropped with a close frame. */
  readonly maxBufferedBytes?: number;
  /** How long a dropped client's close frame may take to flush before the socket is destroyed. */
  readonly closeGraceMs?: number;
}

const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** Close codes (RFC 6455 §7.4.1) we send. */
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_POLICY = 1008;

/** An open server-side WebSocket. */
export interface WsConn {
  sendText(s: string): void;
  close(code?: number, reason?: string): void;
  onClose(fn: () => void): void;
  readonly closed: boolean;
}

/** The `Sec-WebSocket-Accept` value for a client key. */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64');
}

function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65536 ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 255]) : Buffer.alloc(10);
  if (n >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Completes the handshake on an 'upgrade' request; returns undefined (after a 400) if it is not one. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, limits: WsLimits = {}): WsConn | undefined {
  const maxFrame = limits.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const maxBuffered = limits.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const closeGraceMs = limits.closeGraceMs ?? 1000;
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return undefined;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
  let closed = false;
  const closers: (() => void)[] = [];
  const finish = (): void => {
    if (closed) return;
    closed = true;
    for (const f of closers) f();
  };
  const close = (code: number, reason: string): void => {
    if (closed) return;
    const p = Buffer.alloc(2 + Buffer.byteLength(reason));
    p.writeUInt16BE(code, 0);
    p.write(reason, 2);
    socket.end(frame(8, p));
    finish();
    // A client that does not read never takes the close frame; do not wait for it forever.
    setTimeout(() => socket.destroy(), closeGraceMs).unref();
  };
  let pending = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    if (closed) return;
    pending = Buffer.concat([pending, d]);
    while (pending.length >= 2) {
      const op = pending[0]! & 15;
      let len = pending[1]! & 127;
      let off = 2;
      if (len === 126) {
        if (pending.length < 4) return;
        len = pending.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (pending.length < 10) return;
        len = Number(pending.readBigUInt64BE(2));
        off = 10;
      }
      if (len > maxFrame) {
        pending = Buffer.alloc(0);
        close(CLOSE_TOO_BIG, `frame of ${len} bytes exceeds the limit of ${maxFrame}`);
        return;
      }
      const masked = (pending[1]! & 128) !== 0;
      const total = off + (masked ? 4 : 0) + len;
      if (pending.length < total) return;
      const payload = Buffer.from(pending.subarray(off + (masked ? 4 : 0), total));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= pending[off + (i & 3)]!;
      pending = pending.subarray(total);
      if (op === 8) {
        if (!socket.destroyed) socket.end(frame(8, payload.subarray(0, 2)));
        finish();
        return;
      }
      if (op === 9 && !socket.destroyed) socket.write(frame(10, payload));
    }
  });
  socket.on('close', finish);
  socket.on('error', finish);
  // The HTTP server's sockets allow half-open connections, so a client that went away (FIN
  // without a close frame) would otherwise keep its tail, and 'close' would never come.
  socket.on('end', () => {
    socket.end();
    finish();
  });
  return {
    sendText: (s) => {
      if (closed || socket.destroyed) return;
      // What the kernel would not take stays in the socket's buffer: a client that stopped reading.
      if (socket.writableLength > maxBuffered) {
        close(CLOSE_POLICY, `client too slow: more than ${maxBuffered} bytes unread`);
        return;
      }
      socket.write(frame(1, Buffer.from(s)));
    },
    close: (code = 1000, reason = '') => close(code, reason),
    onClose: (fn) => closers.push(fn),
    get closed() {
      return closed;
    },
  };
}
