/**
 * The delivery history's actions beyond one row: send a test event of a chosen type, recover every
 * failed message since a chosen time (each confirms what it queued), and export the filtered
 * history as CSV (for customers who reconcile deliveries in a spreadsheet).
 */
import { useState } from 'react';
import { errorMessage, ok, type EndpointPath } from '../lib/api';
import { useApp } from '../lib/context';
import { formatDateTime, zoneLabel } from '../lib/format';
import { ActionDialog } from './ActionDialog';
import { Field } from './Field';

/** `YYYY-MM-DDTHH:MM` in the viewer's zone, for <input type="datetime-local">. */
export function toLocalInputValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Send test event dialog. */
export function SendTestDialog({ endpointPath, types, onClose, onQueued }: { endpointPath: EndpointPath; types: string[]; onClose: () => void; onQueued: () => void }) {
  const { client, toast } = useApp();
  const [eventType, setEventType] = useState(types[0] ?? '');
  const send = async () => {
    const msg = await ok(client.api.POST('/api/v1/app/{app_id}/endpoint/{endpoint_id}/send-example', { params: { path: endpointPath }, body: { eventType } }));
    toast(`Test event queued: ${eventType}${msg?.id ? ` (${msg.id})` : ''}. It appears below once attempted.`);
    onQueued();
    onClose();
  };
  return (
    <ActionDialog title="Send test event" onClose={onClose} run={send} label="Send test event" busyLabel="Sending…" disabled={!eventType}>
      {(error) =>
        types.length === 0 ? (
          <p>No event types are defined yet. An operator adds them in the event type catalogue.</p>
        ) : (
          <Field id="test-type" label="Event type" hint="Herald sends an example payload of this type to this webhook only." error={error}>
            <select value={eventType} onChange={(e) => setEventType(e.target.value)}>
              {types.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </Field>
        )
      }
    </ActionDialog>
  );
}

/** Recover failed messages dialog. */
export function RecoverDialog({ endpointPath, onClose, onQueued }: { endpointPath: EndpointPath; onClose: () => void; onQueued: () => void }) {
  const { client, toast } = useApp();
  const [since, setSince] = useState(() => toLocalInputValue(new Date(Date.now() - 24 * 3_600_000)));
  const when = new Date(since);
  const valid = !Number.isNaN(when.getTime()) && when.getTime() <= Date.now();
  const recover = async () => {
    const out = await ok(client.api.POST('/api/v1/app/{app_id}/endpoint/{endpoint_id}/recover', { params: { path: endpointPath }, body: { since: when.toISOString() } }));
    const what = typeof out?.count === 'number' ? `${out.count} failed message${out.count === 1 ? '' : 's'}` : 'every failed message';
    toast(`Recovery queued: ${what} since ${formatDateTime(when.toISOString())} will be sent again.`);
    onQueued();
    onClose();
  };
  return (
    <ActionDialog title="Recover failed messages" onClose={onClose} run={recover} label="Recover" busyLabel="Queuing…" disabled={!valid}>
      {(error) => (
        <>
          <p>Every message that failed to reach this webhook since the chosen time is sent again, oldest first.</p>
          <Field id="recover-since" label={`Since (${zoneLabel()})`} error={error ?? (valid ? null : 'Choose a time in the past.')}>
            <input type="datetime-local" value={since} max={toLocalInputValue(new Date())} onChange={(e) => setSince(e.target.value)} />
          </Field>
        </>
      )}
    </ActionDialog>
  );
}

/** The filters of the CSV export (those of the delivery list). */
type AttemptFilters = { status?: 0 | 1 | 2 | 3 | 4; event_types?: string[] };

/** Downloads the CSV export with the bearer header (a plain link could not carry it). */
export function ExportCsvButton({ endpointPath, query, fileName }: { endpointPath: EndpointPath; query: AttemptFilters; fileName: string }) {
  const { client, toast } = useApp();
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    try {
      const params = { path: endpointPath, query };
      const csv = await ok(client.api.GET('/api/v1/app/{app_id}/attempt/endpoint/{endpoint_id}/export.csv', { params, parseAs: 'blob' }));
      const url = URL.createObjectURL(csv);
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      toast(errorMessage(e), 'bad');
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" className="button" onClick={download} disabled={busy}>
      {busy ? 'Exporting…' : 'Export CSV'}
    </button>
  );
}
