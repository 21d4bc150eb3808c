/**
 * Add a webhook: name, URL, event types (checkboxes grouped by prefix), Active toggle. The submit
 * button stays disabled until the form is valid; API errors show beside their field; on success the
 * signing secret is shown once (issue 4).
 */
import { useState, type FormEvent } from 'react';
import { EventTypePicker, selectionValid, toFilterTypes, type EventSelection } from '../components/EventTypePicker';
import { Field } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { SecretDialog } from '../components/SecretDialog';
import { ErrorState, Loading } from '../components/States';
import { ApiError, errorMessage, seg } from '../lib/api';
import { useApp } from '../lib/context';
import { urlProblem } from '../lib/format';
import { navigate } from '../lib/router';
import type { EndpointOut, EventTypeOut, ListResponse } from '../lib/types';
import { useAsync } from '../lib/use-async';

/** Loads the non-archived event type catalogue (one page of 250 is plenty for a picker). */
export function useCatalogue() {
  const { client } = useApp();
  return useAsync(async () => (await client.get<ListResponse<EventTypeOut>>('/api/v1/event-type', { limit: 250 })).data.filter((t) => !t.archived), []);
}

/** Maps API field names onto this form's fields. */
export function formFieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return { '': errorMessage(error) };
  const raw = error.fieldErrors();
  const out: Record<string, string> = {};
  for (const [key, msg] of Object.entries(raw)) {
    const field = key === 'filterTypes' ? 'eventTypes' : key === 'description' ? 'name' : key;
    const known = ['url', 'name', 'eventTypes', 'headers'].includes(field);
    out[known ? field : ''] = out[known ? field : ''] ? `${out[known ? field : '']}; ${msg}` : msg;
  }
  if (Object.keys(out).length === 0) out[''] = error.message;
  return out;
}

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
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ endpoint: EndpointOut; secret: string } | null>(null);

  const catalogueEmpty = catalogue.data?.length === 0;
  const effectiveEvents: EventSelection = catalogueEmpty ? { all: true } : events;
  const urlError = urlProblem(url);
  const nameError = name.trim() ? null : 'Give the webhook a name, e.g. "Fulfilment CRM sync".';
  const valid = !urlError && !nameError && selectionValid(effectiveEvents) && !busy;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    setBusy(true);
    setErrors({});
    try {
      // Herald answers with the new secret (its `secret` extra); older servers need a second request.
      const endpoint = await client.post<EndpointOut & { secret?: string }>(`/api/v1/app/${seg(appId)}/endpoint`, {
        url: url.trim(),
        description: name.trim(),
        filterTypes: toFilterTypes(effectiveEvents),
        disabled: !active,
      });
      const secret = endpoint.secret ?? (await client.get<{ key: string }>(`/api/v1/app/${seg(appId)}/endpoint/${seg(endpoint.id)}/secret`)).key;
      setCreated({ endpoint, secret });
    } catch (err) {
      setErrors(formFieldErrors(err));
    } finally {
      setBusy(false);
    }
  };

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
        <label className="switch">
          <input type="checkbox" role="switch" checked={active} onChange={(e) => setActive(e.target.checked)} />
          <span>
            <strong>Active</strong>
            <span className="check-desc">{active ? 'Deliveries start at once.' : 'Created paused: nothing is sent until you resume it.'}</span>
          </span>
        </label>
        {errors[''] && (
          <p className="field-error" role="alert">
            {errors['']}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={!valid}>
            {busy ? 'Creating…' : 'Create webhook'}
          </button>
          <button type="button" className="button" onClick={() => navigate(base)}>
            Cancel
          </button>
        </div>
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
