/**
 * The confirmation before deleting a webhook, naming it (issue 4; the compliance platform's "Delete
 * Webhook" modal). Deleting cannot be undone and ends its signing secret.
 */
import { useState } from 'react';
import { errorMessage, seg } from '../lib/api';
import { useApp } from '../lib/context';
import type { EndpointOut } from '../lib/types';
import { Dialog } from './Dialog';

/** Asks, deletes, toasts "Webhook deleted successfully", then calls `onDeleted`. */
export function DeleteWebhookDialog({ appId, endpoint, onClose, onDeleted }: { appId: string; endpoint: EndpointOut; onClose: () => void; onDeleted: () => void }) {
  const { client, toast } = useApp();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = endpoint.description || endpoint.url;
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.del(`/api/v1/app/${seg(appId)}/endpoint/${seg(endpoint.id)}`);
      toast('Webhook deleted successfully');
      onDeleted();
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };
  return (
    <Dialog
      title="Delete webhook"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className="button button-danger" onClick={remove} disabled={busy}>
            {busy ? 'Deleting…' : 'Delete'}
          </button>
        </>
      }
    >
      <p>
        Are you sure you want to delete the webhook <strong>“{name}”</strong>?
      </p>
      <p className="muted break">{endpoint.url}</p>
      <p>It stops receiving events at once, its delivery history goes with it, and its signing secret stops working. This cannot be undone.</p>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </Dialog>
  );
}
