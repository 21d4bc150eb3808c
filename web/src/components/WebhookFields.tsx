/**
 * What the add-webhook and edit-webhook forms share: the event type catalogue they pick from, the
 * Active switch, and the request body they send.
 */
import { useApp } from '../lib/context';
import type { EventTypeOut, ListResponse } from '../lib/types';
import { useAsync } from '../lib/use-async';
import { toFilterTypes, type EventSelection } from './EventTypePicker';

/** Loads the non-archived event type catalogue (one page of 250 is plenty for a picker). */
export function useCatalogue() {
  const { client } = useApp();
  return useAsync(async () => (await client.get<ListResponse<EventTypeOut>>('/api/v1/event-type', { limit: 250 })).data.filter((t) => !t.archived), []);
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
