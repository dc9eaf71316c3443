/** Live tail from the client's side, by hand over a socket (Node 20 has no WebSocket client). */
import * as net from 'node:net';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** Opens a tail WebSocket by hand; resolves with the socket and everything read so far once the handshake answered. */
export async function openTail(
  p: number,
  query: string,
  headers: Record<string, string> = {},
): Promise<{ socket: net.Socket; head: string; received: () => Buffer }> {
  const socket = net.connect(p, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(
    `GET /loki/api/v1/tail?${query} HTTP/1.1\r\nhost: 127.0.0.1:${p}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${randomBytes(16).toString('base64')}\r\nsec-websocket-version: 13\r\n${extra}\r\n`,
  );
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  while (!buf.includes('\r\n\r\n') && !socket.destroyed) await sleep(5);
  const end = buf.indexOf('\r\n\r\n');
  return { socket, head: buf.subarray(0, end).toString(), received: () => buf.subarray(end + 4) };
}

/** The text and close frames the server sent (it does not mask). */
export function frames(buf: Buffer): Array<{ op: number; payload: Buffer }> {
  const out: Array<{ op: number; payload: Buffer }> = [];
  let off = 0;
  while (off + 2 <= buf.length) {
    let len = buf[off + 1]! & 127;
    let h = 2;
    if (len === 126) {
      len = buf.readUInt16BE(off + 2);
      h = 4;
    } else if (len === 127) {
      len = Number(buf.readBigUInt64BE(off + 2));
      h = 10;
    }
    if (off + h + len > buf.length) break;
    out.push({ op: buf[off]! & 15, payload: buf.subarray(off + h, off + h + len) });
    off += h + len;
  }
  return out;
}
