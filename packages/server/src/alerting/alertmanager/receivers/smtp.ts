/**
 * A small SMTP client over node:net / node:tls: EHLO, STARTTLS (required unless require_tls is
 * false, as in Alertmanager), AUTH PLAIN or LOGIN, MAIL/RCPT/DATA with dot-stuffing. Port 465
 * means TLS from the first byte. Enough for a smarthost; no pooling, one connection per message.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { NotifyError } from './integration.js';

/** Connection and authentication settings. */
export interface SmtpOptions {
  smarthost: string;
  hello: string;
  requireTls: boolean;
  username: string;
  password: string;
  identity: string;
  timeoutMs: number;
  /** For tests against a server with a self-signed certificate. */
  rejectUnauthorized?: boolean;
}

/** One SMTP reply. */
interface Reply {
  code: number;
  lines: string[];
}

class Conn {
  private buf = '';
  private waiters: Array<() => void> = [];
  private error: Error | undefined;

  constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      this.wake();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.wake();
    });
    socket.on('close', () => {
      this.error ??= new Error('connection closed by server');
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async reply(): Promise<Reply> {
    for (;;) {
      const lines = this.buf.split('\r\n');
      const done = lines.findIndex((l) => /^\d{3}( |$)/.test(l));
      if (done >= 0 && lines.length > done + 1) {
        const got = lines.slice(0, done + 1);
        this.buf = lines.slice(done + 1).join('\r\n');
        return { code: Number(got[done]!.slice(0, 3)), lines: got.map((l) => l.slice(4)) };
      }
      if (this.error) throw this.error;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  async cmd(line: string, expect: number[], what = line.split(' ')[0]!): Promise<Reply> {
    this.socket.write(line + '\r\n');
    const r = await this.reply();
    if (!expect.includes(r.code)) throw smtpError(what, r);
    return r;
  }
}

function smtpError(what: string, r: Reply): NotifyError {
  // 4xx is transient by definition; 5xx is permanent.
  return new NotifyError(`SMTP ${what}: ${r.code} ${r.lines.join(' ')}`, r.code < 500);
}

function connect(host: string, port: number, implicitTls: boolean, o: SmtpOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = implicitTls ? tls.connect({ host, port, servername: host, rejectUnauthorized: o.rejectUnauthorized ?? true }) : net.connect({ host, port });
    s.once(implicitTls ? 'secureConnect' : 'connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Prepends a dot to lines starting with one and normalises line ends to CRLF (RFC 5321 §4.5.2). */
export function dotStuff(body: string): string {
  return body
    .replace(/\r?\n/g, '\r\n')
    .split('\r\n')
    .map((l) => (l.startsWith('.') ? '.' + l : l))
    .join('\r\n');
}

/** Sends one message (already formatted with headers) to the recipients. */
export async function sendMail(o: SmtpOptions, from: string, to: readonly string[], message: string, signal: AbortSignal): Promise<void> {
  const idx = o.smarthost.lastIndexOf(':');
  const host = o.smarthost.slice(0, idx).replace(/^\[|\]$/g, '');
  const port = Number(o.smarthost.slice(idx + 1));
  let socket: net.Socket;
  try {
    socket = await connect(host, port, port === 465, o);
  } catch (err) {
    throw new NotifyError(`SMTP connect to ${o.smarthost}: ${(err as Error).message}`, true);
  }
  const timer = setTimeout(() => socket.destroy(new Error(`SMTP timed out after ${o.timeoutMs}ms`)), o.timeoutMs);
  const onAbort = (): void => void socket.destroy(new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  const c = new Conn(socket);
  try {
    const greet = await c.reply();
    if (greet.code !== 220) throw smtpError('greeting', greet);
    let ehlo = await c.cmd(`EHLO ${o.hello}`, [250]);
    const has = (ext: string): string | undefined => ehlo.lines.find((l) => l.toUpperCase().startsWith(ext));
    if (!(socket instanceof tls.TLSSocket)) {
      if (has('STARTTLS')) {
        await c.cmd('STARTTLS', [220]);
        socket.removeAllListeners('data');
        const secure = tls.connect({ socket, servername: host, rejectUnauthorized: o.rejectUnauthorized ?? true });
        await new Promise<void>((resolve, reject) => {
          secure.once('secureConnect', resolve);
          secure.once('error', reject);
        });
        c.attach(secure);
        ehlo = await c.cmd(`EHLO ${o.hello}`, [250]);
      } else if (o.requireTls) {
        throw new NotifyError(`'require_tls' is true (default) but ${JSON.stringify(o.smarthost)} does not advertise the STARTTLS extension`, false);
      }
    }
    if (o.username) {
      const auth = (has('AUTH') ?? '').toUpperCase();
      if (auth.includes('PLAIN')) {
        await c.cmd(`AUTH PLAIN ${Buffer.from(`${o.identity}\0${o.username}\0${o.password}`).toString('base64')}`, [235], 'AUTH');
      } else if (auth.includes('LOGIN')) {
        await c.cmd('AUTH LOGIN', [334], 'AUTH');
        await c.cmd(Buffer.from(o.username).toString('base64'), [334], 'AUTH');
        await c.cmd(Buffer.from(o.password).toString('base64'), [235], 'AUTH');
      } else {
        throw new NotifyError(`SMTP server ${o.smarthost} offers no supported authentication mechanism`, false);
      }
    }
    await c.cmd(`MAIL FROM:<${bareAddress(from)}>`, [250], 'MAIL');
    for (const rcpt of to) await c.cmd(`RCPT TO:<${bareAddress(rcpt)}>`, [250, 251], 'RCPT');
    await c.cmd('DATA', [354]);
    await c.cmd(`${dotStuff(message)}\r\n.`, [250], 'DATA');
    await c.cmd('QUIT', [221]).catch(() => {});
  } catch (err) {
    if (err instanceof NotifyError) throw err;
    throw new NotifyError(`SMTP ${o.smarthost}: ${(err as Error).message}`, true);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    c.socket.destroy();
  }
}

/** `Name <a@b>` → `a@b`. */
export function bareAddress(s: string): string {
  const m = /<([^>]+)>/.exec(s);
  return (m ? m[1]! : s).trim();
}
