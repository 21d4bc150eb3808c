/**
 * `herald serve --role worker` runs the alert sender beside the delivery worker: a refused email is
 * logged without the SMTP password, the next endpoint's email goes out, and SIGTERM stops it cleanly.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startCli, type CliProcess } from '../cli/cli-process.js';
import { insertEvents } from './events.js';
import { startSmtp, type TestSmtp } from './smtp.js';

let db: TestDatabase | undefined;
let smtp: TestSmtp | undefined;
let serve: CliProcess | undefined;
afterEach(async () => {
  await serve?.stop('SIGKILL');
  await smtp?.close();
  await db?.drop();
  serve = smtp = db = undefined;
});

it('sends alert emails from a worker process, logs SMTP refusals without the password, and stops on SIGTERM', async () => {
  const password = `pw-${randomBytes(8).toString('hex')}`;
  smtp = await startSmtp({ auth: { user: 'herald', pass: password } });
  db = await createTestDatabase();
  await db.pool.query(`insert into application (id, name, alert_email) values ('app_serve1', 'Acme', null)`);
  await db.pool.query(`insert into endpoint (id, app_id, url) values ('ep_serve1', 'app_serve1', 'https://a.example/hook'), ('ep_serve2', 'app_serve1', 'https://b.example/hook')`);
  smtp.refuseData(550);
  serve = startCli(['serve', '--role', 'worker'], {
    env: {
      DATABASE_URL: db.url,
      HERALD_SECRET_KEY: randomBytes(32).toString('base64'),
      HERALD_LOG_LEVEL: 'info',
      HERALD_SMTP_URL: smtp.url,
      HERALD_ALERT_FROM: 'alerts@example.com',
      HERALD_ALERT_EMAILS: 'ops@example.com',
    },
  });
  await serve.waitFor(/delivery worker started/);
  const event = (endpointId: string, msgId: string) => ({
    type: 'message.attempt.exhausted' as const,
    appId: 'app_serve1',
    endpointId,
    msgId,
    at: new Date(),
    lastError: 'the receiver answered HTTP 500',
  });
  await insertEvents(db.pool, [event('ep_serve1', 'msg_a')]);
  await serve.waitFor(/alert email not sent/);
  expect(serve.stdout).toContain('550');
  expect(serve.stdout + serve.stderr).not.toContain(password);

  smtp.refuseData(null);
  await insertEvents(db.pool, [event('ep_serve2', 'msg_b')]);
  const [mail] = await smtp.waitForMails(1, 15_000);
  expect(mail!.to).toEqual(['ops@example.com']);
  expect(mail!.parsed.subject).toContain('b.example');
  await serve.waitFor(/alert email sent/);
  expect(await serve.stop('SIGTERM')).toBe(0);
  expect(serve.stdout + serve.stderr).not.toContain(password);
});
