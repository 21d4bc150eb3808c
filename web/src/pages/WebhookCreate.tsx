/**
 * Add a webhook: name, URL, event types (checkboxes grouped by prefix), Active toggle, delivery
 * policy (in-flight cap, timeout, retry schedule, throttle rate, ordering; empty = inherited). The submit
 * button stays disabled until the form is valid; API errors show beside their field; on success the
 * signing secret is shown once (issue 4).
 */
import { useState } from 'react';
import { EventTypePicker, selectionValid, type EventSelection } from '../components/EventTypePicker';
import { Field, FormError, FormActions } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { PolicyFields, policyValid, useInheritedPolicy } from '../components/PolicyFields';
import { SecretDialog } from '../components/SecretDialog';
import { ErrorState, Loading } from '../components/States';
import { ActiveSwitch, useCatalogue, webhookBody } from '../components/WebhookFields';
import { seg } from '../lib/api';
import { useApp } from '../lib/context';
import { useFormSubmit } from '../lib/form';
import { urlProblem } from '../lib/format';
import { draftOf, policyBody } from '../lib/policy';
import { navigate } from '../lib/router';
import type { EndpointOut } from '../lib/types';

/** Add webhook page. */
export function WebhookCreate({ appId }: { appId: string }) {
  const { client, appBase } = useApp();
  const base = appBase(appId);
  const catalogue = useCatalogue();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [touched, setTouched] = useState<Record<string, boolean>>({});
  const [events, setEvents] = useState<EventSelection>({ all: false, names: [] });
  const [active, setActive] = useState(true);
  const [policy, setPolicy] = useState(() => draftOf({}));
  const inherited = useInheritedPolicy(appId);
  const { busy, errors, onSubmit } = useFormSubmit();
  const [created, setCreated] = useState<{ endpoint: EndpointOut; secret: string } | null>(null);

  const catalogueEmpty = catalogue.data?.length === 0;
  const effectiveEvents: EventSelection = catalogueEmpty ? { all: true } : events;
  const urlError = urlProblem(url);
  const nameError = name.trim() ? null : 'Give the webhook a name, e.g. "Fulfilment CRM sync".';
  const valid = !urlError && !nameError && selectionValid(effectiveEvents) && policyValid(policy) && !busy;

  const submit = onSubmit(valid, async () => {
    // Herald answers with the new secret (its `secret` extra); older servers need a second request.
    const body = { ...webhookBody({ name, url, events: effectiveEvents, active }), ...policyBody(policy, true) };
    const endpoint = await client.post<EndpointOut & { secret?: string }>(`/api/v1/app/${seg(appId)}/endpoint`, body);
    const secret = endpoint.secret ?? (await client.get<{ key: string }>(`/api/v1/app/${seg(appId)}/endpoint/${seg(endpoint.id)}/secret`)).key;
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
        <PolicyFields idPrefix="wh-policy" value={policy} onChange={setPolicy} inherited={inherited} subject="this webhook" inheritsFrom="the application (or the server default)" errors={errors} ordering />
        <FormError message={errors['']} />
        <FormActions submit={busy ? 'Creating…' : 'Create webhook'} disabled={!valid} onCancel={() => navigate(base)} />
      </form>
      {created && (
        <SecretDialog
          title="Webhook created"
          secret={created.secret}
          intro={`“${created.endpoint.description || created.endpoint.url}” is ready. Use this secret to verify the signature of every delivery.`}
          onDone={() => navigate(base)}
        />
      )}
    </section>
  );
}
