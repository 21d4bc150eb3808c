/**
 * What the add-webhook and edit-webhook forms share: the event type catalogue they pick from, the
 * application whose settings a webhook inherits, the Active switch, and the request body they send.
 */
import { ok } from '../lib/api';
import type { ApplicationOut } from '../lib/types';
import { useApp } from '../lib/context';
import { useAsync } from '../lib/use-async';
import { toFilterTypes, type EventSelection } from './EventTypePicker';
import type { InheritedContract } from './SignatureFields';

/** Loads the non-archived event type catalogue (one page of 250 is plenty for a picker). */
export function useCatalogue() {
  const { client } = useApp();
  return useAsync(async () => (await ok(client.api.GET('/api/v1/event-type', { params: { query: { limit: 250 } } }))).data.filter((t) => !t.archived), []);
}

/**
 * The application a webhook inherits from, loaded once for both the delivery policy placeholders and
 * the signature it would inherit. Undefined until loaded, or when the token may not read it (the
 * fields then just say "Inherited").
 */
export function useApplication(appId: string): ApplicationOut | undefined {
  const { client } = useApp();
  return useAsync(() => ok(client.api.GET('/api/v1/app/{app_id}', { params: { path: { app_id: appId } } })), [appId]).data;
}

/** What a webhook of `app` inherits: its profile and delivery headers; undefined while unknown. */
export function inheritedContract(app: ApplicationOut | undefined): InheritedContract | undefined {
  if (!app) return undefined;
  return { signature: app.signature ?? null, deliveryHeaders: app.deliveryHeaders ?? null };
}

/** The fields of a webhook as the form holds them. */
export interface WebhookDraft {
  name: string;
  url: string;
  events: EventSelection;
  active: boolean;
}

/** The create / update request body for a draft. */
export function webhookBody({ name, url, events, active }: WebhookDraft) {
  return { url: url.trim(), description: name.trim(), filterTypes: toFilterTypes(events), disabled: !active };
}

/** The Active switch, with a line saying what each state means. */
export function ActiveSwitch({ active, onChange, onText, offText }: { active: boolean; onChange: (active: boolean) => void; onText: string; offText: string }) {
  return (
    <label className="switch">
      <input type="checkbox" role="switch" checked={active} onChange={(e) => onChange(e.target.checked)} />
      <span>
        <strong>Active</strong>
        <span className="check-desc">{active ? onText : offText}</span>
      </span>
    </label>
  );
}
