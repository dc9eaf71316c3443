/** The email integration: a plain-text and HTML message over SMTP, subject, headers and bodies rendered through the templates. */
import { randomUUID } from 'node:crypto';
import type { EmailConfig } from '../config.js';
import { fieldRenderer, type Integration, type IntegrationDeps, type RenderField } from './integration.js';
import { sendMail } from './smtp.js';
import { callTemplate } from './templates.js';

/** RFC 2047 encoded word for non-ASCII header values. */
function headerValue(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : `=?UTF-8?B?${Buffer.from(v).toString('base64')}?=`;
}

function b64(s: string): string {
  return Buffer.from(s).toString('base64').replace(/.{76}/g, '$&\r\n');
}

/** Header values become one line: a template's stray newline must not start a new header. */
const oneLine = (s: string): string => s.replace(/\r?\n/g, ' ');

/** The rendered subject and bodies of an email (also what the inbox shows). */
export function emailParts(c: Pick<EmailConfig, 'subject' | 'text' | 'html'>, render: RenderField): { subject: string; text: string; html: string } {
  return {
    subject: oneLine(render('subject', c.subject, callTemplate('email.default.subject'))),
    text: render('text', c.text, callTemplate('email.default.text')),
    html: render('html', c.html, callTemplate('email.default.html'), { html: true }),
  };
}

/** The full message (headers and MIME body). */
export function emailMessage(c: EmailConfig, now: number, render: RenderField): string {
  const { subject, text, html } = emailParts(c, render);
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
    if (canon !== 'Subject') headers[canon] = oneLine(render(`headers.${k}`, v, ''));
  }
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
export function emailIntegration(c: EmailConfig, deps: IntegrationDeps): Integration {
  return {
    type: 'email',
    sendResolved: c.sendResolved,
    async notify(d, signal) {
      const opts = {
        smarthost: c.smarthost,
        hello: c.hello,
        requireTls: c.requireTls,
        username: c.authUsername,
        password: c.authPassword,
        identity: c.authIdentity,
        timeoutMs: c.timeoutMs,
      };
      await sendMail(opts, c.from, c.to, emailMessage(c, deps.now(), fieldRenderer(deps, 'email', d)), signal);
    },
  };
}
