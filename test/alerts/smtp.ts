/**
 * A real SMTP server for alert tests (the `smtp-server` package) on 127.0.0.1, port 0: records every
 * email it accepts, parsed with `mailparser`, and refuses the way the test tells it to.
 *
 * ```ts
 * const smtp = await startSmtp({ auth: { user: 'herald', pass: 'p@ss' } });
 * smtp.url                          // smtp://herald:p%40ss@127.0.0.1:PORT
 * smtp.refuseData(554)              // every DATA is answered 554 from now on; refuseData(null) accepts again
 * await smtp.waitForMails(2);       // two emails accepted (polls with a deadline)
 * smtp.mails[0]!.to                 // envelope recipients
 * ```
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One accepted email. */
export interface ReceivedMail {
  /** Envelope sender. */
  from: string;
  /** Envelope recipients (who the server was asked to deliver to). */
  to: string[];
  /** The parsed message: subject, text, html, headers. */
  parsed: ParsedMail;
}

export interface TestSmtp {
  /** smtp:// URL of this server (with the credentials when auth is required). */
  url: string;
  /** Port it listens on. */
  port: number;
  /** Accepted emails, in order. */
  mails: ReceivedMail[];
  /** DATA attempts refused so far. */
  refused: number;
  /** Refuse every DATA with this SMTP code (5xx or 4xx) from now on; null accepts again. */
  refuseData(code: number | null): void;
  /** Resolves once `n` emails were accepted; throws after the deadline. */
  waitForMails(n: number, deadlineMs?: number): Promise<ReceivedMail[]>;
  /** Stops listening. */
  close(): Promise<void>;
}

export async function startSmtp(opts: { auth?: { user: string; pass: string }; port?: number } = {}): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  let refuse: number | null = null;
  const state = { refused: 0 };
  const server = new SMTPServer({
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refuse !== null) {
          state.refused++;
          cb(Object.assign(new Error('Message refused by the test'), { responseCode: refuse }));
          return;
        }
        simpleParser(Buffer.concat(chunks)).then(
          (parsed) => {
            mails.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              parsed,
            });
            cb();
          },
          (e: Error) => cb(e),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const cred = opts.auth ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.pass)}@` : '';
  return {
    url: `smtp://${cred}127.0.0.1:${port}`,
    port,
    mails,
    get refused() {
      return state.refused;
    },
    refuseData(code) {
      refuse = code;
    },
    async waitForMails(n, deadlineMs = 10_000) {
      const until = Date.now() + deadlineMs;
      while (mails.length < n) {
        if (Date.now() > until) throw new Error(`expected ${n} emails, got ${mails.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return mails;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
