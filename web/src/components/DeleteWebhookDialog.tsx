/**
 * The confirmation before deleting a webhook, naming it, so the user knows which one goes. Deleting
 * cannot be undone and ends its signing secret.
 */
import { ok } from '../lib/api';
import { useApp } from '../lib/context';
import type { EndpointOut } from '../lib/types';
import { ActionDialog } from './ActionDialog';
import { FormError } from './Field';

/** Asks, deletes, toasts "Webhook deleted successfully", then calls `onDeleted`. */
export function DeleteWebhookDialog({ appId, endpoint, onClose, onDeleted }: { appId: string; endpoint: EndpointOut; onClose: () => void; onDeleted: () => void }) {
  const { client, toast } = useApp();
  const name = endpoint.description || endpoint.url;
  const remove = async () => {
    await ok(client.api.DELETE('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path: { app_id: appId, endpoint_id: endpoint.id } } }));
    toast('Webhook deleted successfully');
    onDeleted();
  };
  return (
    <ActionDialog title="Delete webhook" onClose={onClose} run={remove} label="Delete" busyLabel="Deleting…" danger>
      {(error) => (
        <>
          <p>
            Are you sure you want to delete the webhook <strong>“{name}”</strong>?
          </p>
          <p className="muted break">{endpoint.url}</p>
          <p>It stops receiving events at once, its delivery history goes with it, and its signing secret stops working. This cannot be undone.</p>
          <FormError message={error} />
        </>
      )}
    </ActionDialog>
  );
}
