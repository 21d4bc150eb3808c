/**
 * The SMTP side of alert emails: a nodemailer transport built from HERALD_SMTP_URL, and SMTP errors
 * described for logs. The URL's password goes to the transport and nowhere else: a log line names
 * the setting and the server's answer, never the URL.
 */
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';

/** Deadlines of one SMTP conversation: a server that hangs cannot hold the sender for long. */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

/** What sends an email; nodemailer's transporter in production. */
export interface MailTransport {
  /** Sends one email; rejects with the SMTP error. */
  sendMail(mail: { from: string; to: string[]; subject: string; text: string; html: string }): Promise<{ messageId?: string; rejected?: unknown[] }>;
  /** Closes pooled connections. */
  close(): void;
}

/** Transport options of an smtp:// or smtps:// URL (smtps = TLS from the start; smtp upgrades with STARTTLS when offered). */
export function smtpOptionsOf(url: string): SMTPTransport.Options {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  const user = decodeURIComponent(u.username);
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    auth: user ? { user, pass: decodeURIComponent(u.password) } : undefined,
    ...TIMEOUTS,
  };
}

/** A transport on HERALD_SMTP_URL. */
export function createSmtpTransport(url: string): MailTransport {
  return nodemailer.createTransport(smtpOptionsOf(url));
}

/** Whether an SMTP error concerns the recipients only (the server works; other emails can go). */
export function isRecipientError(e: unknown): boolean {
  return (e as { code?: string } | null)?.code === 'EENVELOPE';
}

/**
 * An SMTP error as a log field: nodemailer's code, the server's reply code and text, and what
 * Herald was doing. `secrets` (the URL's password) are cut out of the text, should a server echo them.
 */
export function describeSmtpError(e: unknown, secrets: string[] = []): { code: string | null; responseCode: number | null; message: string } {
  const err = (e ?? {}) as { code?: string; responseCode?: number; response?: string; message?: string };
  let message = err.response || err.message || String(e);
  for (const s of secrets) if (s) message = message.split(s).join('[redacted]');
  return { code: err.code ?? null, responseCode: err.responseCode ?? null, message: message.slice(0, 1_000) };
}

/** The password inside an SMTP URL (to keep it out of logs), or none. */
export function smtpSecretsOf(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const u = new URL(url);
    return [u.password, decodeURIComponent(u.password)].filter((s) => s.length > 0);
  } catch {
    return [];
  }
}
