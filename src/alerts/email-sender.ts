/**
 * The alert email sender: a background loop, beside the delivery worker, that turns operational
 * events marked `notify` into emails.
 *
 * - Batched per endpoint and audience: the first event of a quiet endpoint is emailed at the next
 *   pass (every couple of seconds); after that, the endpoint's events wait until its window
 *   (HERALD_ALERT_WINDOW or the stored setting) is over and then go out as one summary. An outage
 *   that fails a million messages sends one email per window per audience, not a million.
 * - Two audiences, each its own email, window and failures: the operators (one email to all of
 *   them) hear about every endpoint; an application's contact hears about its own endpoints only,
 *   in an email of its own, so no customer sees another's or the operators' addresses.
 * - One sender at a time across every Herald process: a pass runs only while it holds a session
 *   advisory lock on the sender's own connection (pg_try_advisory_lock; a process that dies lets
 *   go of it with its connection). The SMTP conversation happens outside any transaction; the
 *   events are marked after the server accepted the email. A crash (or a lost database) between
 *   the two sends that email once more: at least once, never lost.
 * - SMTP failures are logged with the server's answer and retried with backoff per endpoint and
 *   audience; events stay waiting meanwhile. Delivery never waits for any of this: the sender has
 *   its own timer and its own database connection, and each pass does bounded work.
 */
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Clock } from '../core/clock.js';
import { OPERATIONAL_APP_ID } from '../core/operational.js';
import type { Logger } from '../logger.js';
import { createPool } from '../store/pool.js';
import { withSessionLock } from '../store/session-lock.js';
import { PeriodicPass } from '../engine/periodic-pass.js';
import {
  listDueAlertGroups,
  loadAlertBatch,
  loadAlertDetails,
  loadAlertSubject,
  markAlertsEmailed,
  markUnreachableAlerts,
  recordAlertFailure,
  type AlertDetail,
  type DueAlertGroup,
} from '../store/alerts.js';
import { loadAlertSettings, type AlertSettings } from './alert-settings.js';
import { composeAlertEmail, endpointPageUrl, type AlertEmailInput, type Audience, type FailedMessage } from './email-compose.js';
import { createSmtpTransport, describeSmtpError, isRecipientError, smtpSecretsOf, type MailTransport } from './smtp.js';

/** Fixed key of the sender's advisory lock ("HrldMail" in ASCII). */
export const ALERT_LOCK_KEY = '5220354096126585196';
/** How often a sender looks for work. */
const TICK_MS = 2_000;
/** Emails one pass sends at most. */
const EMAILS_PER_PASS = 20;
/** Events one email covers at most; the rest go in the next one. */
const EVENTS_PER_EMAIL = 50_000;
/** Failed messages an email lists. */
const RECENT_FAILURES = 5;
/** Rows marked per statement when nobody is to be told. */
const MARK_BATCH = 5_000;
/** Events older than this are not mailed late (after an SMTP outage of days, or email turned on). */
export const STALE_AFTER_MS = 3 * 86_400_000;
/** Retry delay after the first SMTP failure; doubles with each further failure, up to RETRY_MAX_MS. */
const RETRY_BASE_MS = 30_000;
const RETRY_MAX_MS = 3_600_000;

/** Settings of an {@link AlertEmailSender}. */
export interface AlertSenderOptions {
  /** Database the events live in; the sender opens one connection of its own on it. */
  databaseUrl: string;
  /** Herald's configuration (SMTP URL, sender, default recipients and window, public URL). */
  config: Config;
  /** Time source (fake in tests: windows and backoff follow it). */
  clock: Clock;
  /** Where sends and failures are reported. */
  log: Logger;
  /** Interval between passes. */
  tickMs?: number;
  /** Transport to send through instead of HERALD_SMTP_URL's. */
  transport?: MailTransport;
}

/** What one pass did. */
export interface PassResult {
  /** false when another sender held the lock (nothing was done). */
  ran: boolean;
  /** Emails the SMTP server accepted. */
  sent: number;
  /** Emails that failed and will be retried. */
  failed: number;
  /** Events marked without an email (nobody to tell, or too old). */
  skipped: number;
}

/** Delay before retrying after the `failures`-th SMTP failure in a row. */
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

/** Sends alert emails; one per process (started where the delivery worker is), any number per database. */
export class AlertEmailSender {
  private readonly db: pg.Pool;
  private readonly transport: MailTransport | null;
  private readonly secrets: string[];
  private readonly loop: PeriodicPass;

  constructor(private readonly opts: AlertSenderOptions) {
    const { log } = opts;
    this.db = createPool({ url: opts.databaseUrl, max: 1, applicationName: 'herald-alerts' }, (e) =>
      log.warn({ error: e.message }, 'alert sender: idle database connection lost; it reconnects'));
    const url = opts.config.HERALD_SMTP_URL;
    this.transport = opts.transport ?? (url ? createSmtpTransport(url) : null);
    this.secrets = smtpSecretsOf(url);
    this.loop = new PeriodicPass(
      () => this.pass(),
      () => opts.tickMs ?? TICK_MS,
      (e) => log.warn({ error: e instanceof Error ? e.message : String(e) }, 'alert sender pass failed; trying again'),
    );
  }

  /** Starts passes: one at once, then every tickMs. */
  start(): void {
    this.loop.start();
  }

  /**
   * Stops after the pass in progress (an SMTP conversation has deadlines), and closes the sender's
   * connection. Calling it again waits for the same stop; a stopped sender does not start again.
   */
  stop(): Promise<void> {
    return this.loop.stop(async () => {
      this.transport?.close();
      await this.db.end();
    });
  }

  /**
   * One pass: under the lock, mark what nobody will hear about, then send the emails that are due.
   * Without an SMTP server it does nothing: events stay unmarked (the operational event list shows
   * them as not emailed), and once HERALD_SMTP_URL is set the last STALE_AFTER_MS of them are sent.
   */
  async pass(): Promise<PassResult> {
    const result: PassResult = { ran: false, sent: 0, failed: 0, skipped: 0 };
    if (this.transport === null) return result;
    result.ran = await withSessionLock(this.db, ALERT_LOCK_KEY, (client) => this.locked(client, result));
    return result;
  }

  private async locked(db: pg.PoolClient, result: PassResult): Promise<void> {
    const now = this.opts.clock.now();
    const settings = await loadAlertSettings(db, this.opts.config);
    const on = settings.enabled;
    const staleBefore = new Date(now.getTime() - STALE_AFTER_MS);
    result.skipped += await markUnreachableAlerts(db, 'operators', { everything: !on || settings.emails.length === 0, staleBefore, now, limit: MARK_BATCH });
    result.skipped += await markUnreachableAlerts(db, 'contact', { everything: !on, staleBefore, now, limit: MARK_BATCH });
    if (!on) return;
    for (const audience of ['operators', 'contact'] as const) {
      const limit = EMAILS_PER_PASS - result.sent - result.failed;
      if (limit <= 0 || this.loop.stopping) return;
      const groups = await listDueAlertGroups(db, audience, now, settings.windowSeconds * 1000, limit);
      for (const g of groups) {
        if (this.loop.stopping) return;
        const outcome = await this.sendGroup(db, audience, g, settings, now);
        if (outcome === 'sent') result.sent++;
        else if (outcome !== 'nothing') result.failed++;
        if (outcome === 'server-failed') return; // the server is down or refusing: the others would fail too
      }
    }
  }

  /** Composes and sends one endpoint's email to one audience, then marks its events. */
  private async sendGroup(db: pg.PoolClient, audience: Audience, g: DueAlertGroup, settings: AlertSettings, now: Date): Promise<'sent' | 'nothing' | 'recipient-failed' | 'server-failed'> {
    const batch = await loadAlertBatch(db, g.appId, g.endpointId, audience, EVENTS_PER_EMAIL);
    if (!batch) return 'nothing';
    const subject = await loadAlertSubject(db, g.appId, g.endpointId);
    const to = audience === 'operators' ? settings.emails : subject.alertEmail && g.appId !== OPERATIONAL_APP_ID ? [subject.alertEmail] : [];
    if (to.length === 0) {
      await markAlertsEmailed(db, g.appId, g.endpointId, audience, batch.ids, now, false);
      return 'nothing';
    }
    const details = await loadAlertDetails(db, g.appId, batch.ids, RECENT_FAILURES);
    const publicUrl = this.opts.config.HERALD_PUBLIC_URL;
    const input: AlertEmailInput = {
      audience,
      to,
      app: { id: g.appId, name: subject.appName },
      operational: g.appId === OPERATIONAL_APP_ID,
      endpoint: { id: g.endpointId, url: subject.url, description: subject.description ?? '', disabled: subject.disabled ?? false, disabledBy: subject.disabledBy },
      counts: { exhausted: batch.exhausted, failing: batch.failing, recovered: batch.recovered },
      events: batch.ids.length,
      period: { from: batch.firstAt, to: batch.lastAt },
      recent: details.filter((d) => d.type.startsWith('message.')).map(failedMessageOf),
      disabled: disabledOf(details),
      enabled: enabledOf(details),
      more: batch.more,
      // Customers cannot sign in to the operators' dashboard: their email says where to look instead.
      link: publicUrl && audience === 'operators' ? endpointPageUrl(publicUrl, g.appId, g.endpointId) : null,
      windowMs: settings.windowSeconds * 1000,
    };
    const mail = composeAlertEmail(input);
    const fields = { appId: g.appId, endpointId: g.endpointId, audience, events: batch.ids.length };
    let info: Awaited<ReturnType<MailTransport['sendMail']>>;
    try {
      info = await this.transport!.sendMail({ from: this.opts.config.HERALD_ALERT_FROM!, ...mail });
    } catch (e) {
      const failures = g.failures + 1;
      const retryAt = new Date(now.getTime() + retryDelayMs(failures));
      await recordAlertFailure(db, g.endpointId, audience, failures, retryAt);
      this.opts.log.warn(
        { ...fields, failures, retryAt: retryAt.toISOString(), smtp: describeSmtpError(e, this.secrets) },
        'alert email not sent (HERALD_SMTP_URL); trying again later',
      );
      return isRecipientError(e) ? 'recipient-failed' : 'server-failed';
    }
    await markAlertsEmailed(db, g.appId, g.endpointId, audience, batch.ids, now);
    const rejected = info.rejected?.length ? { rejected: info.rejected.map(String) } : {};
    this.opts.log.info({ ...fields, messageId: info.messageId, ...rejected }, 'alert email sent');
    return 'sent';
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function failedMessageOf(d: AlertDetail): FailedMessage {
  const last = (d.data.lastAttempt ?? {}) as { responseStatusCode?: unknown };
  const status = typeof last.responseStatusCode === 'number' && last.responseStatusCode > 0 ? last.responseStatusCode : null;
  return {
    msgId: d.msgId ?? str(d.data.msgId) ?? '(unknown message)',
    eventType: d.eventType,
    state: d.type === 'message.attempt.exhausted' ? 'exhausted' : 'failing',
    at: d.createdAt,
    lastError: str(d.data.lastError),
    status,
  };
}

function disabledOf(details: AlertDetail[]): AlertEmailInput['disabled'] {
  const d = details.find((x) => x.type === 'endpoint.disabled');
  return d ? { at: d.createdAt, reason: str(d.data.reason) } : null;
}

function enabledOf(details: AlertDetail[]): AlertEmailInput['enabled'] {
  const d = details.find((x) => x.type === 'endpoint.enabled');
  return d ? { at: d.createdAt } : null;
}
