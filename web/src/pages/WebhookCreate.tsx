/**
 * Add a webhook: name, URL, event types (checkboxes grouped by prefix), Active toggle, a payload
 * filter with a sample to test it against, delivery
 * policy (in-flight cap, timeout, retry schedule, throttle rate, ordering; empty = inherited), the
 * signature profile and delivery headers (or the application's) with receiver code that follows the
 * choice, and optionally an existing secret to import. The submit button stays disabled until the
 * form is valid; API errors show beside their field; on success the signing secret is shown once
 * — for Ed25519 the public key instead, and nothing when the secret was imported.
 */
import { useState } from 'react';
import { EventTypePicker, selectionValid, type EventSelection } from '../components/EventTypePicker';
import { Field, FormError, FormActions } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { PayloadFilterField, usePayloadFilterForm } from '../components/PayloadFilterField';
import { PolicyFields, policyValid } from '../components/PolicyFields';
import { ReceiverSnippet } from '../components/ReceiverSnippet';
import { PublicKeyDialog, SecretDialog } from '../components/SecretDialog';
import { SignatureFields, useSignatureForm } from '../components/SignatureFields';
import { ErrorState, Loading } from '../components/States';
import { ActiveSwitch, inheritedContract, useApplication, useCatalogue, webhookBody } from '../components/WebhookFields';
import { ok } from '../lib/api';
import { useApp } from '../lib/context';
import { useFormSubmit } from '../lib/form';
import { urlProblem } from '../lib/format';
import { draftOf, policyBody } from '../lib/policy';
import { navigate } from '../lib/router';
import { importedSecretProblem } from '../lib/signature';
import type { EndpointOut } from '../lib/types';

/** Add webhook page. */
export function WebhookCreate({ appId }: { appId: string }) {
  const { client, appBase, toast } = useApp();
  const base = appBase(appId);
  const catalogue = useCatalogue();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [events, setEvents] = useState<EventSelection>({ all: false, names: [] });
  const [active, setActive] = useState(true);
  const [policy, setPolicy] = useState(() => draftOf({}));
  const [importSecret, setImportSecret] = useState('');
  const app = useApplication(appId);
  const sig = useSignatureForm({}, inheritedContract(app));
  const payloadFilter = usePayloadFilterForm(null);
  const { busy, errors, onSubmit } = useFormSubmit();
  const [created, setCreated] = useState<{ endpoint: EndpointOut; secret: string | null } | null>(null);

  const catalogueEmpty = catalogue.data?.length === 0;
  const effectiveEvents: EventSelection = catalogueEmpty ? { all: true } : events;
  const urlError = urlProblem(url);
  const nameError = name.trim() ? null : 'Give the webhook a name, e.g. "Fulfilment CRM sync".';
  const profile = sig.profile;
  const secretError = profile ? importedSecretProblem(importSecret.trim(), profile) : null;
  const valid = !urlError && !nameError && selectionValid(effectiveEvents) && policyValid(policy) && sig.valid && !secretError && payloadFilter.problem === null && !busy;

  const submit = onSubmit(valid, async () => {
    const body = {
      ...webhookBody({ name, url, events: effectiveEvents, active }),
      ...policyBody(policy, true),
      ...sig.body(),
      ...payloadFilter.body(),
      ...(importSecret.trim() ? { secret: importSecret.trim() } : {}),
    };
    const endpoint = await ok(client.api.POST('/api/v1/app/{app_id}/endpoint', { params: { path: { app_id: appId } }, body }));
    if (importSecret.trim()) {
      toast('Webhook created with your existing secret');
      navigate(base);
      return;
    }
    // Herald answers with the new secret (its `secret` extra); older servers need a second request.
    // An Ed25519 webhook shows its public key instead: the private key stays with Herald.
    const ed25519 = endpoint.effectiveSignature?.scheme === 'ed25519';
    const secret = ed25519 ? null : (endpoint.secret ?? (await ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/secret', { params: { path: { app_id: appId, endpoint_id: endpoint.id } } }))).key);
    setCreated({ endpoint, secret });
  });

  if (catalogue.loading && !catalogue.data) return <Loading what="Loading event types…" />;
  if (catalogue.error && !catalogue.data) return <ErrorState error={catalogue.error} onRetry={catalogue.reload} />;

  return (
    <section className="narrow">
      <PageHeader title="Add webhook" back={{ to: base, label: 'Back to webhooks' }} subtitle="Herald will POST each subscribed event to this URL, signed with the webhook's secret." />
      <form className="form card" onSubmit={submit} noValidate>
        <Field id="wh-name" label="Name" hint="Shown in lists, e.g. Fulfilment CRM sync." error={errors.name ?? (touched.name ? nameError : null)}>
          <input type="text" value={name} maxLength={200} autoComplete="off" onChange={(e) => setName(e.target.value)} onBlur={() => setTouched((t) => ({ ...t, name: true }))} />
        </Field>
        <Field id="wh-url" label="URL" hint="The HTTPS endpoint that will receive deliveries." error={errors.url ?? (touched.url ? urlError : null)}>
          <input type="url" value={url} inputMode="url" placeholder="https://example.com/webhooks" autoComplete="off" spellCheck={false} onChange={(e) => setUrl(e.target.value)} onBlur={() => setTouched((t) => ({ ...t, url: true }))} />
        </Field>
        {catalogueEmpty ? (
          <p className="field-hint">No event types are defined yet, so this webhook receives every event.</p>
        ) : (
          <EventTypePicker catalogue={catalogue.data ?? []} value={events} onChange={setEvents} error={errors.eventTypes} />
        )}
        <ActiveSwitch active={active} onChange={setActive} onText="Deliveries start at once." offText="Created paused: events are kept and sent, in publish order, when you resume it." />
        <PayloadFilterField idPrefix="wh-pf" form={payloadFilter} error={errors.payloadFilter} />
        <PolicyFields idPrefix="wh-policy" value={policy} onChange={setPolicy} inherited={app?.effectivePolicy} subject="this webhook" inheritsFrom="the application (or the server default)" errors={errors} ordering />
        <SignatureFields idPrefix="wh-sig" {...sig.fields} errors={errors} />
        <ImportSecretField value={importSecret} onChange={setImportSecret} ed25519={profile?.scheme === 'ed25519'} error={errors.secret ?? secretError} />
        <ReceiverSnippet profile={profile} deliveryHeaders={sig.deliveryHeaders} unavailable={sig.valid ? undefined : 'Fix the signature fields above to see the code.'} />
        <FormError message={errors['']} />
        <FormActions submit={busy ? 'Creating…' : 'Create webhook'} disabled={!valid} onCancel={() => navigate(base)} />
      </form>
      {created && <CreatedDialog appId={appId} {...created} onDone={() => navigate(base)} />}
    </section>
  );
}

/** The optional secret to import, so a platform's receivers keep the secret they verify with. */
function ImportSecretField({ value, onChange, ed25519, error }: { value: string; onChange: (v: string) => void; ed25519: boolean; error: string | null | undefined }) {
  return (
    <Field
      id="wh-secret"
      label="Import existing secret (optional)"
      hint={
        ed25519
          ? 'An Ed25519 signing key (whsk_…) whose public key your receivers already hold. Leave empty to have Herald make one.'
          : 'A secret your receivers already verify with, so they need no change. Leave empty to have Herald make one (recommended).'
      }
      error={error}
    >
      <input type="text" value={value} autoComplete="off" spellCheck={false} onChange={(e) => onChange(e.target.value)} />
    </Field>
  );
}

/** "Webhook created": the secret, once; for Ed25519 (secret null) the public key receivers verify with. */
function CreatedDialog({ appId, endpoint, secret, onDone }: { appId: string; endpoint: EndpointOut; secret: string | null; onDone: () => void }) {
  const name = endpoint.description || endpoint.url;
  if (secret === null) {
    return (
      <PublicKeyDialog
        title="Webhook created"
        intro={`“${name}” is ready. Its deliveries are signed with Ed25519: receivers verify them with this public key and hold no secret.`}
        endpointPath={{ app_id: appId, endpoint_id: endpoint.id }}
        endpointId={endpoint.id}
        onDone={onDone}
      />
    );
  }
  return <SecretDialog title="Webhook created" secret={secret} intro={`“${name}” is ready. Use this secret to verify the signature of every delivery: it replaces YOUR_SECRET in the receiver code.`} onDone={onDone} />;
}
