/**
 * The webhooks of one application: name, URL, event types, secret hint, status (Active, Paused,
 * Disabled automatically with the reason), last delivery with a mark, and actions. Empty state: "No webhooks configured yet." with the add button.
 */
import { useState } from 'react';
import { Badge } from '../components/Badge';
import { CopyableId } from '../components/CopyButton';
import { DataTable } from '../components/DataTable';
import { DeleteWebhookDialog } from '../components/DeleteWebhookDialog';
import { PageHeader } from '../components/PageHeader';
import { AsyncView } from '../components/States';
import { useToastAction } from '../lib/actions';
import { ok, seg } from '../lib/api';
import { useApp } from '../lib/context';
import { endpointStatus, formatDateTime, maskedSecret, zoneLabel } from '../lib/format';
import { Link } from '../lib/router';
import type { EndpointOut } from '../lib/types';
import { useAsync } from '../lib/use-async';

/** Props: the application whose webhooks are listed. */
export interface WebhookListProps {
  /** Application id or uid. */
  appId: string;
}

/** Webhooks list page. */
export function WebhookList({ appId }: WebhookListProps) {
  const { client, can, appBase, mode, isOperator } = useApp();
  const run = useToastAction();
  const base = appBase(appId);
  const [deleting, setDeleting] = useState<EndpointOut | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const list = useAsync(
    () => ok(client.api.GET('/api/v1/app/{app_id}/endpoint', { params: { path: { app_id: appId }, query: { limit: 250 } } })),
    [appId],
  );
  const app = useAsync(
    () => (mode === 'dashboard' ? ok(client.api.GET('/api/v1/app/{app_id}', { params: { path: { app_id: appId } } })) : Promise.resolve(null)),
    [appId, mode],
  );

  const togglePause = async (ep: EndpointOut) => {
    setBusy(ep.id);
    if (await run(() => ok(client.api.PATCH('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path: { app_id: appId, endpoint_id: ep.id } }, body: { disabled: !ep.disabled } })), ep.disabled ? 'Webhook resumed' : 'Webhook paused')) list.reload();
    setBusy(null);
  };

  const addButton = can('create') ? (
    <Link className="button button-primary" to={`${base}/webhooks/new`}>
      Add webhook
    </Link>
  ) : null;

  return (
    <section>
      <PageHeader
        title="Webhooks"
        back={mode === 'dashboard' && isOperator && app.data ? { to: '/', label: 'Applications' } : undefined}
        subtitle={
          mode === 'dashboard' && app.data ? (
            <>
              Application <strong>{app.data.name}</strong> <CopyableId id={app.data.id} />
            </>
          ) : (
            'Endpoints that receive events, signed so you can verify they came from us.'
          )
        }
        actions={
          <>
            <Link className="button" to={`${base}/alerts`}>
              Alerts
            </Link>
            {list.data?.data.length ? addButton : null}
          </>
        }
      />
      <AsyncView state={list} loading="Loading webhooks…" isEmpty={(page) => !page.data.length} empty="No webhooks configured yet." emptyAction={addButton}>
        {(page) => (
          <DataTable columns={['Name', 'URL', 'Event types', 'Signing secret', 'Status', 'Last delivery']} actions caption={`Webhooks; times in ${zoneLabel()}`} note={`Times in ${zoneLabel()}.`}>
            {page.data.map((ep) => (
              <WebhookRow
                key={ep.id}
                ep={ep}
                base={base}
                busy={busy === ep.id}
                onTogglePause={() => togglePause(ep)}
                onDelete={() => setDeleting(ep)}
              />
            ))}
          </DataTable>
        )}
      </AsyncView>
      {deleting && (
        <DeleteWebhookDialog
          appId={appId}
          endpoint={deleting}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            setDeleting(null);
            list.reload();
          }}
        />
      )}
    </section>
  );
}

function WebhookRow({ ep, base, busy, onTogglePause, onDelete }: { ep: EndpointOut; base: string; busy: boolean; onTogglePause: () => void; onDelete: () => void }) {
  const { can } = useApp();
  const status = endpointStatus(ep);
  const name = ep.description || 'Untitled webhook';
  const types = ep.filterTypes?.length ? ep.filterTypes : null;
  return (
    <tr data-testid={`webhook-${ep.id}`}>
      <td data-label="Name">
        <Link to={`${base}/webhooks/${seg(ep.id)}`} className="strong-link">
          {name}
        </Link>
        <div className="cell-sub">
          <CopyableId id={ep.id} />
        </div>
      </td>
      <td data-label="URL" className="url-cell">
        <span className="chip break">{ep.url}</span>
      </td>
      <td data-label="Event types">
        {types ? (
          <ul className="tag-list">
            {types.map((t) => (
              <li key={t}>
                <code className="tag">{t}</code>
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted">All event types</span>
        )}
      </td>
      <td data-label="Signing secret">
        {/* An Ed25519 webhook's key is private to Herald: its profile says how it signs instead. */}
        {ep.effectiveSignature?.scheme === 'ed25519' ? <span className="muted">Ed25519 key pair</span> : <code className="secret-hint">{maskedSecret(ep.secretHint)}</code>}
      </td>
      <td data-label="Status">
        <Badge tone={status.tone}>{status.label}</Badge>
        {ep.paused && !!ep.held && <div className="cell-sub">{ep.held} held</div>}
        {status.reason && <div className="cell-sub reason">{status.reason}</div>}
      </td>
      <td data-label="Last delivery">
        {ep.lastDelivery ? (
          <span className={ep.lastDelivery.succeeded ? 'mark-ok' : 'mark-bad'}>
            <span aria-hidden="true">{ep.lastDelivery.succeeded ? '✓ ' : '✗ '}</span>
            <span className="visually-hidden">{ep.lastDelivery.succeeded ? 'Succeeded: ' : 'Failed: '}</span>
            {formatDateTime(ep.lastDelivery.at)}
          </span>
        ) : (
          <span className="muted">Never</span>
        )}
      </td>
      <td data-label="Actions" className="actions-cell">
        <div className="row-actions">
          <Link className="button button-small" to={`${base}/webhooks/${seg(ep.id)}`} aria-label={`Deliveries of ${name}`}>
            Deliveries
          </Link>
          {can('update') && (
            <>
              <Link className="button button-small" to={`${base}/webhooks/${seg(ep.id)}/edit`} aria-label={`Edit ${name}`}>
                Edit
              </Link>
              <button type="button" className="button button-small" onClick={onTogglePause} disabled={busy} aria-label={`${ep.disabled ? 'Resume' : 'Pause'} ${name}`}>
                {ep.disabled ? 'Resume' : 'Pause'}
              </button>
            </>
          )}
          {can('delete') && (
            <button type="button" className="button button-small button-danger-outline" onClick={onDelete} aria-label={`Delete ${name}`}>
              Delete
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}
