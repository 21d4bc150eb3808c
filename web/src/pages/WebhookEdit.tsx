/**
 * Edit a webhook: name, URL, event types, pause and delivery policy; custom headers; the signing secret (reveal where
 * allowed, rotate with the grace-period warning); delete with a confirmation naming it (issue 4).
 */
import { useEffect, useState } from 'react';
import { Badge } from '../components/Badge';
import { CopyableId } from '../components/CopyButton';
import { DeleteWebhookDialog } from '../components/DeleteWebhookDialog';
import { EventTypePicker, fromFilterTypes, selectionValid, type EventSelection } from '../components/EventTypePicker';
import { Field, FormError, FormActions } from '../components/Field';
import { HeadersEditor } from '../components/HeadersEditor';
import { PageHeader } from '../components/PageHeader';
import { PolicyFields, policyValid, useInheritedPolicy } from '../components/PolicyFields';
import { SecretPanel } from '../components/SecretPanel';
import { ErrorState, Loading } from '../components/States';
import { ActiveSwitch, useCatalogue, webhookBody } from '../components/WebhookFields';
import { seg } from '../lib/api';
import { useApp } from '../lib/context';
import { useFormSubmit } from '../lib/form';
import { endpointStatus, urlProblem } from '../lib/format';
import { draftOf, policyBody } from '../lib/policy';
import { navigate } from '../lib/router';
import type { EndpointOut } from '../lib/types';
import { useAsync } from '../lib/use-async';

/** Edit webhook page. */
export function WebhookEdit({ appId, endpointId }: { appId: string; endpointId: string }) {
  const { client, appBase, can } = useApp();
  const base = appBase(appId);
  const path = `/api/v1/app/${seg(appId)}/endpoint/${seg(endpointId)}`;
  const endpoint = useAsync(() => client.get<EndpointOut>(path), [path]);
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
  const inherited = useInheritedPolicy(appId);
  const { busy, errors, onSubmit } = useFormSubmit();

  // A pause from the list (or auto-disable) while this page is open shows here too.
  useEffect(() => setActive(!endpoint.disabled), [endpoint.disabled]);
  // After a save, show the policy as the server stored it ("24h" comes back as "1d").
  useEffect(() => setPolicy(draftOf(endpoint)), [endpoint.updatedAt]); // eslint-disable-line react-hooks/exhaustive-deps

  const urlError = urlProblem(url);
  const valid = !urlError && name.trim() !== '' && selectionValid(events) && policyValid(policy) && !busy;
  const submit = onSubmit(valid, async () => {
    await client.patch(`/api/v1/app/${seg(appId)}/endpoint/${seg(endpoint.id)}`, { ...webhookBody({ name, url, events, active }), ...policyBody(policy, true) });
    toast('Webhook saved');
    onSaved();
  });

  return (
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
      <PolicyFields idPrefix="edit-policy" value={policy} onChange={setPolicy} inherited={inherited} subject="this webhook" inheritsFrom="the application (or the server default)" errors={errors} ordering />
      <FormError message={errors['']} />
      <FormActions submit={busy ? 'Saving…' : 'Save changes'} disabled={!valid} />
    </form>
  );
}
