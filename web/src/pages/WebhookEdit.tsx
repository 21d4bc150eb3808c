/**
 * Edit a webhook: the signature in force (its profile, or the application's, and an Ed25519 public
 * key); name, URL, event types, pause, payload filter (tested against a sample), delivery policy, signature profile and delivery headers, with
 * receiver code; custom headers; the signing secret (reveal where allowed, rotate with the
 * grace-period warning); delete with a confirmation naming it.
 */
import { useEffect, useState } from 'react';
import { Badge } from '../components/Badge';
import { CopyableId } from '../components/CopyButton';
import { DeleteWebhookDialog } from '../components/DeleteWebhookDialog';
import { EventTypePicker, fromFilterTypes, selectionValid, type EventSelection } from '../components/EventTypePicker';
import { Field, FormError, FormActions } from '../components/Field';
import { HeadersEditor } from '../components/HeadersEditor';
import { PageHeader } from '../components/PageHeader';
import { PayloadFilterField, usePayloadFilterForm } from '../components/PayloadFilterField';
import { PolicyFields, policyValid } from '../components/PolicyFields';
import { ReceiverSnippet } from '../components/ReceiverSnippet';
import { PublicKeyDialog, SecretDialog } from '../components/SecretDialog';
import { SecretPanel } from '../components/SecretPanel';
import { SignatureFields, useSignatureForm, type InheritedContract } from '../components/SignatureFields';
import { SignatureSummary } from '../components/SignatureSummary';
import { ErrorState, Loading } from '../components/States';
import { ActiveSwitch, inheritedContract, useApplication, useCatalogue, webhookBody } from '../components/WebhookFields';
import { ok, seg } from '../lib/api';
import { useApp } from '../lib/context';
import { useFormSubmit } from '../lib/form';
import { endpointStatus, urlProblem } from '../lib/format';
import { draftOf, policyBody } from '../lib/policy';
import { navigate } from '../lib/router';
import { secretForProfile } from '../lib/secret';
import { needsNewSecret } from '../lib/signature';
import type { ApplicationOut, EndpointOut } from '../lib/types';
import { useAsync } from '../lib/use-async';

/** Edit webhook page. */
export function WebhookEdit({ appId, endpointId }: { appId: string; endpointId: string }) {
  const { client, appBase, can } = useApp();
  const base = appBase(appId);
  const path = { app_id: appId, endpoint_id: endpointId };
  const endpoint = useAsync(() => ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path } })), [appId, endpointId]);
  const catalogue = useCatalogue();
  const [deleting, setDeleting] = useState(false);

  if ((endpoint.loading && !endpoint.data) || (catalogue.loading && !catalogue.data)) return <Loading what="Loading webhook…" />;
  if (endpoint.error && !endpoint.data) return <ErrorState error={endpoint.error} onRetry={endpoint.reload} />;
  if (catalogue.error && !catalogue.data) return <ErrorState error={catalogue.error} onRetry={catalogue.reload} />;
  const ep = endpoint.data!;
  const status = endpointStatus(ep);
  const name = ep.description || 'Untitled webhook';

  return (
    <section className="narrow">
      <PageHeader
        title={`Edit ${name}`}
        back={{ to: `${base}/webhooks/${seg(ep.id)}`, label: 'Back to deliveries' }}
        subtitle={
          <>
            <Badge tone={status.tone}>{status.label}</Badge> <CopyableId id={ep.id} />
            {status.reason && <p className="reason">{status.reason}</p>}
          </>
        }
      />
      <SignatureSummary endpointPath={path} endpoint={ep} withSnippet={!can('update')} />
      {can('update') && <SettingsForm appId={appId} endpoint={ep} catalogue={catalogue.data ?? []} onSaved={endpoint.reload} />}
      {can('update') && <HeadersEditor endpointPath={path} />}
      <SecretPanel endpointPath={path} endpoint={ep} onRotated={endpoint.reload} />
      {can('delete') && (
        <section className="card danger-zone" aria-labelledby="danger-title">
          <h2 id="danger-title">Delete webhook</h2>
          <p>Stops all deliveries to this URL and removes its history. This cannot be undone.</p>
          <button type="button" className="button button-danger" onClick={() => setDeleting(true)}>
            Delete webhook
          </button>
        </section>
      )}
      {deleting && <DeleteWebhookDialog appId={appId} endpoint={ep} onClose={() => setDeleting(false)} onDeleted={() => navigate(base)} />}
    </section>
  );
}

function SettingsForm({ appId, endpoint, catalogue, onSaved }: { appId: string; endpoint: EndpointOut; catalogue: Parameters<typeof EventTypePicker>[0]['catalogue']; onSaved: () => void }) {
  const { client, toast } = useApp();
  const [name, setName] = useState(endpoint.description);
  const [url, setUrl] = useState(endpoint.url);
  const [events, setEvents] = useState<EventSelection>(fromFilterTypes(endpoint.filterTypes));
  const [active, setActive] = useState(!endpoint.disabled);
  const [policy, setPolicy] = useState(() => draftOf(endpoint));
  const app = useApplication(appId);
  const sig = useSignatureForm(endpoint, inheritedOf(app, endpoint));
  const payloadFilter = usePayloadFilterForm(endpoint.payloadFilter);
  const { busy, errors, onSubmit } = useFormSubmit();
  const [shown, setShown] = useState<{ secret: string } | { publicKey: true } | null>(null);
  const endpointPath = { app_id: appId, endpoint_id: endpoint.id };

  // A pause from the list (or auto-disable) while this page is open shows here too.
  useEffect(() => setActive(!endpoint.disabled), [endpoint.disabled]);
  // After a save, show the policy and the signature as the server stored them ("24h" comes back as "1d").
  useEffect(() => {
    setPolicy(draftOf(endpoint));
    sig.reset(endpoint);
  }, [endpoint.updatedAt]); // eslint-disable-line react-hooks/exhaustive-deps

  const profile = sig.profile;
  // The API refuses a profile the current secret does not fit unless a fitting one comes with it.
  const newSecret = profile !== null && needsNewSecret(endpoint.effectiveSignature ?? { scheme: 'standard' }, profile);
  const urlError = urlProblem(url);
  const valid = !urlError && name.trim() !== '' && selectionValid(events) && policyValid(policy) && sig.valid && payloadFilter.problem === null && !busy;
  const submit = onSubmit(valid, async () => {
    const secret = newSecret && profile ? await secretForProfile(profile) : null;
    const body = { ...webhookBody({ name, url, events, active }), ...policyBody(policy, true), ...sig.body(), ...payloadFilter.body(), ...(secret ? { secret } : {}) };
    await ok(client.api.PATCH('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path: endpointPath }, body }));
    toast('Webhook saved');
    if (secret) setShown(profile?.scheme === 'ed25519' ? { publicKey: true } : { secret });
    else onSaved();
  });
  const done = () => {
    setShown(null);
    onSaved();
  };

  return (
    <>
      <form className="form card" onSubmit={submit} noValidate aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <Field id="edit-name" label="Name" error={errors.name ?? (name.trim() ? null : 'Give the webhook a name.')}>
          <input type="text" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field id="edit-url" label="URL" hint="The HTTPS endpoint that receives deliveries." error={errors.url ?? urlError}>
          <input type="url" value={url} inputMode="url" spellCheck={false} onChange={(e) => setUrl(e.target.value)} />
        </Field>
        <EventTypePicker catalogue={catalogue} value={events} onChange={setEvents} error={errors.eventTypes} idPrefix="edit-et" />
        <ActiveSwitch active={active} onChange={setActive} onText="Receives deliveries." offText="Paused: events are kept and sent, in publish order, when you resume it." />
        <PayloadFilterField idPrefix="edit-pf" form={payloadFilter} error={errors.payloadFilter} />
        <PolicyFields idPrefix="edit-policy" value={policy} onChange={setPolicy} inherited={app?.effectivePolicy} subject="this webhook" inheritsFrom="the application (or the server default)" errors={errors} ordering />
        <SignatureFields idPrefix="edit-sig" {...sig.fields} errors={errors} />
        {newSecret && <NewSecretNote ed25519={profile?.scheme === 'ed25519'} />}
        <ReceiverSnippet profile={profile} deliveryHeaders={sig.deliveryHeaders} endpointId={endpoint.id} unavailable={sig.valid ? undefined : 'Fix the signature fields above to see the code.'} />
        <FormError message={errors[''] ?? errors.secret} />
        <FormActions submit={busy ? 'Saving…' : 'Save changes'} disabled={!valid} />
      </form>
      {shown && 'secret' in shown && <SecretDialog title="New signing secret" secret={shown.secret} intro="The webhook now signs with this secret. Put it in your receiver in place of YOUR_SECRET." onDone={done} />}
      {shown && 'publicKey' in shown && (
        <PublicKeyDialog title="New signing key" intro="The webhook now signs with Ed25519. Receivers verify with this public key." endpointPath={endpointPath} endpointId={endpoint.id} onDone={done} />
      )}
    </>
  );
}

/**
 * What the webhook would inherit: the application's profile and delivery headers; where the token
 * may not read the application, what the webhook itself says it inherits (its effective values,
 * when it sets neither).
 */
function inheritedOf(app: ApplicationOut | undefined, ep: EndpointOut): InheritedContract | undefined {
  const fromApp = inheritedContract(app);
  if (fromApp) return fromApp;
  if (ep.signature == null && ep.deliveryHeaders == null && ep.effectiveSignature) return { signature: ep.effectiveSignature, deliveryHeaders: ep.effectiveDeliveryHeaders ?? null };
  return undefined;
}

/** Said before a save that needs a new secret: the current one cannot sign under the chosen profile. */
function NewSecretNote({ ed25519 }: { ed25519: boolean }) {
  return (
    <p className="warning" role="note" data-testid="new-secret-note">
      {ed25519
        ? 'Ed25519 signs with a key pair, not the current secret: saving makes one, which replaces the current secret. Receivers then verify with its public key, shown after saving.'
        : 'The current secret does not fit this profile: saving makes a new one in its form, which replaces the current secret. It is shown once, after saving.'}
    </p>
  );
}
