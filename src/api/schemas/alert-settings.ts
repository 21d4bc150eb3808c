/** Request and response schemas of the alert settings (Herald extension: GET/PUT /api/v1/alert-settings). */
import { z } from 'zod';
import { isEmailAddress, MAX_ADDRESS_LENGTH, MAX_OPERATOR_ADDRESSES } from '../../alerts/addresses.js';
import { WINDOW_SECONDS, type AlertSettings } from '../../alerts/alert-settings.js';

const Address = z
  .string()
  .max(MAX_ADDRESS_LENGTH, { message: `at most ${MAX_ADDRESS_LENGTH} characters`, abort: true })
  .refine(isEmailAddress, 'must be one email address, e.g. ops@example.com');

const Emails = z
  .array(Address)
  .max(MAX_OPERATOR_ADDRESSES, `at most ${MAX_OPERATOR_ADDRESSES} addresses; use a mailing list for more`)
  .describe('Operator addresses: one email to all of them about every broken endpoint. [] = no operator emails (application contacts still get theirs).');
const WindowSeconds = z
  .number()
  .int('must be a whole number of seconds')
  .min(WINDOW_SECONDS.min, `at least ${WINDOW_SECONDS.min} seconds`)
  .max(WINDOW_SECONDS.max, `at most ${WINDOW_SECONDS.max} seconds (7 days)`)
  .describe('Batching window: one endpoint sends each group of recipients at most one email per window, summarising what happened in it.');
const Enabled = z.boolean().describe('false = no alert emails at all; events that happen meanwhile are never emailed.');

/** Body of PUT: the whole settings document (every field required). */
export const AlertSettingsIn = z
  .object({ emails: Emails, windowSeconds: WindowSeconds, enabled: Enabled })
  .meta({ id: 'AlertSettingsIn' });

/** The settings in force: what was stored, else the environment's defaults. */
export const AlertSettingsOut = z
  .object({
    emails: Emails,
    windowSeconds: WindowSeconds,
    enabled: Enabled,
    smtpConfigured: z.boolean().describe('Read-only: whether HERALD_SMTP_URL is set. Without it no email is sent, whatever these settings say.'),
  })
  .meta({ id: 'AlertSettingsOut' });

/** Maps the settings in force to AlertSettingsOut. */
export function toAlertSettingsOut(s: AlertSettings): z.output<typeof AlertSettingsOut> {
  return { emails: s.emails, windowSeconds: s.windowSeconds, enabled: s.enabled, smtpConfigured: s.smtpConfigured };
}

/** A PUT body as stored: addresses kept once each (ignoring case), in the order given. */
export function storedAlertSettingsOf(body: z.output<typeof AlertSettingsIn>) {
  const seen = new Set<string>();
  const emails = body.emails.filter((e) => !seen.has(e.toLowerCase()) && seen.add(e.toLowerCase()));
  return { emails, windowSeconds: body.windowSeconds, enabled: body.enabled };
}
