/**
 * The alert email settings, for operators (GET/PUT /api/v1/alert-settings): who is emailed about every
 * application's broken integrations, how often at most per endpoint, and whether emails are sent at
 * all. Says so when the server has no SMTP server configured (HERALD_SMTP_URL), since nothing is sent
 * then. Each application's own contact is set in its settings.
 */
import { useEffect, useState } from 'react';
import { ok } from '../lib/api';
import { useApp } from '../lib/context';
import { useFormSubmit } from '../lib/form';
import { useAsync } from '../lib/use-async';
import { Field, FormActions, FormError } from './Field';
import { ErrorState, Loading } from './States';


/** Splits a list typed with commas, spaces or new lines. */
export function addressList(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Operator alert settings form. */
export function AlertSettings() {
  const { client, toast } = useApp();
  const settings = useAsync(() => ok(client.api.GET('/api/v1/alert-settings')), []);
  const [emails, setEmails] = useState('');
  const [minutes, setMinutes] = useState('');
  const [enabled, setEnabled] = useState(true);
  const { busy, errors, onSubmit } = useFormSubmit();
  useEffect(() => {
    const s = settings.data;
    if (!s) return;
    setEmails(s.emails.join('\n'));
    setMinutes(String(Math.round(s.windowSeconds / 60)));
    setEnabled(s.enabled);
  }, [settings.data]);

  if (settings.loading && !settings.data) return <Loading what="Loading alert settings…" />;
  if (settings.error && !settings.data) return <ErrorState error={settings.error} onRetry={settings.reload} />;
  const s = settings.data!;
  const windowMinutes = Number(minutes);
  const windowProblem = Number.isInteger(windowMinutes) && windowMinutes >= 1 && windowMinutes <= 1440 ? null : 'Between 1 and 1440 minutes.';
  const submit = onSubmit(!windowProblem && !busy, async () => {
    await ok(client.api.PUT('/api/v1/alert-settings', { body: { emails: addressList(emails), windowSeconds: windowMinutes * 60, enabled } }));
    toast('Alert settings saved');
    settings.reload();
  });
  const emailError = errors.emails ?? null;

  return (
    <details className="card alert-settings" open={!s.smtpConfigured ? true : undefined}>
      <summary>Alert emails</summary>
      {!s.smtpConfigured && (
        <p className="reason" role="note">
          No email is sent: this server has no SMTP server configured. Set HERALD_SMTP_URL and HERALD_ALERT_FROM, then restart Herald.
        </p>
      )}
      <form className="form" onSubmit={submit} noValidate>
        <Field
          id="alert-emails"
          label="Operators to email"
          hint="One address per line. They hear about every application; each application's own contact is set in its settings."
          error={emailError}
        >
          <textarea rows={3} value={emails} onChange={(e) => setEmails(e.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        <Field id="alert-window" label="At most one email per endpoint every (minutes)" hint="Later problems of the same endpoint wait and are summarised in the next email." error={windowProblem ?? errors.windowSeconds ?? null}>
          <input inputMode="numeric" value={minutes} onChange={(e) => setMinutes(e.target.value)} />
        </Field>
        <div className="field">
          <label>
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Send alert emails
          </label>
        </div>
        <FormError message={errors[''] ?? null} />
        <FormActions submit={busy ? 'Saving…' : 'Save alert settings'} disabled={!!windowProblem || busy} />
      </form>
    </details>
  );
}
