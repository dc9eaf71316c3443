/** The email integration: a plain-text and HTML message over SMTP. */
import { randomUUID } from 'node:crypto';
import type { EmailConfig } from '../config.js';
import { defaultText, defaultTitle, renderSimple, type TemplateData } from '../template.js';
import type { Integration } from './integration.js';
import { sendMail } from './smtp.js';

/** RFC 2047 encoded word for non-ASCII header values. */
function headerValue(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : `=?UTF-8?B?${Buffer.from(v).toString('base64')}?=`;
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64').replace(/.{76}/g, '$&\r\n');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The full message (headers and MIME body). */
export function emailMessage(c: EmailConfig, d: TemplateData, now: number): string {
  const subject = renderSimple(c.subject, d) ?? defaultTitle(d);
  const text = defaultText(d);
  const boundary = `vigil-${randomUUID()}`;
  const headers: Record<string, string> = {
    From: c.from,
    To: c.to.join(', '),
    Subject: subject,
    Date: new Date(now).toUTCString().replace('GMT', '+0000'),
    'Message-Id': `<${randomUUID()}@vigil>`,
    'MIME-Version': '1.0',
    'Content-Type': `multipart/alternative; boundary="${boundary}"`,
  };
  for (const [k, v] of Object.entries(c.headers)) {
    const canon = Object.keys(headers).find((h) => h.toLowerCase() === k.toLowerCase()) ?? k;
    if (canon !== 'Subject') headers[canon] = renderSimple(v, d) ?? v;
  }
  const color = d.status === 'firing' ? '#D00000' : '#2EB886';
  const html = `<html><body><h2 style="color:${color}">${escapeHtml(subject)}</h2><pre style="font-size:14px">${escapeHtml(text)}</pre>${d.externalURL ? `<p><a href="${escapeHtml(d.externalURL)}">Open Vigil</a></p>` : ''}</body></html>`;
  return [
    ...Object.entries(headers).map(([k, v]) => `${k}: ${headerValue(v)}`),
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64(text),
    `--${boundary}`,
    'Content-Type: text/html; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    b64(html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** Creates an email integration. */
export function emailIntegration(c: EmailConfig, now: () => number): Integration {
  return {
    type: 'email',
    sendResolved: c.sendResolved,
    async notify(d, signal) {
      const opts = { smarthost: c.smarthost, hello: c.hello, requireTls: c.requireTls, username: c.authUsername, password: c.authPassword, identity: c.authIdentity, timeoutMs: c.timeoutMs };
      await sendMail(opts, c.from, c.to, emailMessage(c, d, now()), signal);
    },
  };
}
