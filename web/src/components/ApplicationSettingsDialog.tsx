/**
 * An application's settings (operators): its name, how long its delivery log is kept (retention, in
 * days; empty = the server's default), the delivery policy and the signing contract
 * (signature profile, delivery headers) its webhooks inherit unless they set their own. Empty policy
 * fields use the server's defaults; the profile defaults to Standard Webhooks. A profile change an
 * inheriting webhook's secret cannot follow is refused by the API, whose sentence shows beside the
 * signature scheme.
 */
import { useState } from 'react';
import { ok } from '../lib/api';
import { useApp } from '../lib/context';
import { useFormSubmit } from '../lib/form';
import { draftOf, policyBody } from '../lib/policy';
import { RETENTION_DAYS, retentionBody, retentionProblem, SERVER_DEFAULT_RETENTION } from '../lib/retention';
import type { ApplicationOut, EffectivePolicy } from '../lib/types';
import { Dialog } from './Dialog';
import { Field, FormActions, FormError } from './Field';
import { PolicyFields, policyValid } from './PolicyFields';
import { SignatureFields, useSignatureForm } from './SignatureFields';

/**
 * The server defaults, field by field: where the application sets nothing, its effective policy is
 * the server's; where it sets a value, the default is not known here. Applications have no
 * inherited throttle rate: without one, there is no limit.
 */
function serverDefaults(app: ApplicationOut): Partial<EffectivePolicy> | undefined {
  const eff = app.effectivePolicy;
  if (!eff) return undefined;
  return {
    maxInFlight: app.maxInFlight == null ? eff.maxInFlight : undefined,
    timeoutMs: app.timeoutMs == null ? eff.timeoutMs : undefined,
    retrySchedule: app.retrySchedule == null ? eff.retrySchedule : undefined,
    throttleRate: null,
  };
}

/** Settings dialog of one application. */
export function ApplicationSettingsDialog({ app, onClose, onSaved }: { app: ApplicationOut; onClose: () => void; onSaved: () => void }) {
  const { client, toast } = useApp();
  const [name, setName] = useState(app.name);
  const [alertEmail, setAlertEmail] = useState(app.alertEmail ?? '');
  const [retention, setRetention] = useState(app.retentionPeriod == null ? '' : String(app.retentionPeriod));
  const [policy, setPolicy] = useState(() => draftOf(app));
  const sig = useSignatureForm(app, undefined, { canInherit: false });
  const { busy, errors, onSubmit } = useFormSubmit();
  const valid = name.trim() !== '' && retentionProblem(retention) === null && policyValid(policy) && sig.valid && !busy;
  const submit = onSubmit(valid, async () => {
    const body = { name: name.trim(), alertEmail: alertEmail.trim() || null, retentionPeriod: retentionBody(retention), ...policyBody(policy, false), ...sig.body() };
    await ok(client.api.PATCH('/api/v1/app/{app_id}', { params: { path: { app_id: app.id } }, body }));
    toast(`Settings of “${name.trim()}” saved`);
    onSaved();
  });
  return (
    <Dialog title={`Settings of ${app.name}`} onClose={onClose} wide>
      <form className="form" onSubmit={submit} noValidate>
        <Field id="app-settings-name" label="Name" error={errors.name ?? (name.trim() ? null : 'Give the application a name.')}>
          <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
        </Field>
        <Field
          id="app-settings-alert-email"
          label="Alert email"
          hint="Your customer's contact: emailed when one of this application's webhooks fails for good, is disabled or recovers. Leave empty for none."
          error={errors.alertEmail ?? null}
        >
          <input type="email" value={alertEmail} onChange={(e) => setAlertEmail(e.target.value)} autoComplete="off" />
        </Field>
        <Field
          id="app-settings-retention"
          label="Retention (days)"
          hint={`How long this application's messages, deliveries and attempts are kept (${RETENTION_DAYS.min}–${RETENTION_DAYS.max} days); older ones are deleted unless a delivery is still pending. Leave empty for ${SERVER_DEFAULT_RETENTION}.`}
          error={errors.retentionPeriod ?? retentionProblem(retention)}
        >
          <input
            type="text"
            inputMode="numeric"
            value={retention}
            placeholder="Server default"
            onChange={(e) => setRetention(e.target.value)}
            autoComplete="off"
          />
        </Field>
        <PolicyFields
          idPrefix="app-policy"
          value={policy}
          onChange={setPolicy}
          inherited={serverDefaults(app)}
          subject="this application's webhooks (each may set its own)"
          inheritsFrom="the server default"
          errors={errors}
        />
        <SignatureFields idPrefix="app-sig" {...sig.fields} errors={errors} />
        <FormError message={errors['']} />
        <FormActions submit={busy ? 'Saving…' : 'Save settings'} disabled={!valid} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
