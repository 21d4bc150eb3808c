/**
 * Operator: every application (tenant) with its retention period, a way into each one's webhooks, a new
 * application form, its settings (name, retention, delivery policy), and the customer-portal link (with an
 * iframe snippet) for one application.
 */
import { useState } from 'react';
import { ApplicationSettingsDialog } from '../components/ApplicationSettingsDialog';
import { CopyableId, CopyButton } from '../components/CopyButton';
import { DataTable } from '../components/DataTable';
import { Dialog } from '../components/Dialog';
import { Field, FormActions } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { AsyncView, Loading } from '../components/States';
import { errorMessage, ok, seg } from '../lib/api';
import { useApp } from '../lib/context';
import { formFieldErrors, useFormSubmit } from '../lib/form';
import { formatDateTime, zoneLabel } from '../lib/format';
import { describeRetention, SERVER_DEFAULT_RETENTION } from '../lib/retention';
import { Link } from '../lib/router';
import type { ApplicationOut } from '../lib/types';
import { useAsync } from '../lib/use-async';

/** The iframe snippet a platform pastes into its own site to embed the portal. */
export function iframeSnippet(url: string): string {
  return `<iframe src="${url.replace(/"/g, '&quot;')}" title="Webhooks" style="width:100%;height:800px;border:0" allow="clipboard-write"></iframe>`;
}

/** Applications page. */
export function Applications() {
  const { client, can, isOperator, appBase } = useApp();
  const [cursors, setCursors] = useState<string[]>([]);
  const iterator = cursors[cursors.length - 1];
  const apps = useAsync(() => ok(client.api.GET('/api/v1/app', { params: { query: { limit: 100, iterator } } })), [iterator]);
  const [creating, setCreating] = useState(false);
  const [portalFor, setPortalFor] = useState<ApplicationOut | null>(null);
  const [settingsFor, setSettingsFor] = useState<ApplicationOut | null>(null);

  return (
    <section>
      <PageHeader
        title="Applications"
        subtitle="Each application is one of your customers, with its own webhooks and messages."
        actions={
          can('create') && (
            <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
              New application
            </button>
          )
        }
      />
      <AsyncView state={apps} loading="Loading applications…" isEmpty={(page) => !page.data.length} empty="No applications yet. Create one here or with POST /api/v1/app.">
        {(page) => (
          <DataTable columns={['Name', 'UID', 'ID', 'Retention', `Created (${zoneLabel()})`]} actions>
            {page.data.map((app) => (
              <tr key={app.id}>
                <td data-label="Name">
                  <Link className="strong-link" to={appBase(app.id)}>
                    {app.name}
                  </Link>
                </td>
                <td data-label="UID">{app.uid ? <code>{app.uid}</code> : <span className="muted">—</span>}</td>
                <td data-label="ID">
                  <CopyableId id={app.id} />
                </td>
                <td data-label="Retention" data-testid={`retention-${app.id}`}>
                  {app.retentionPeriod == null ? <span className="muted" title={`Kept for ${SERVER_DEFAULT_RETENTION}`}>{describeRetention(null)}</span> : describeRetention(app.retentionPeriod)}
                </td>
                <td data-label="Created">{formatDateTime(app.createdAt)}</td>
                <td data-label="Actions" className="actions-cell">
                  <div className="row-actions">
                    <Link className="button button-small" to={appBase(app.id)} aria-label={`Webhooks of ${app.name}`}>
                      Webhooks
                    </Link>
                    {isOperator && can('create') && (
                      <button type="button" className="button button-small" onClick={() => setPortalFor(app)} aria-label={`Portal link for ${app.name}`}>
                        Portal link
                      </button>
                    )}
                    {isOperator && can('update') && (
                      <button type="button" className="button button-small" onClick={() => setSettingsFor(app)} aria-label={`Settings of ${app.name}`}>
                        Settings
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </AsyncView>
      {(cursors.length > 0 || (apps.data && !apps.data.done)) && (
        <nav className="pager" aria-label="Pages of applications">
          <button type="button" className="button" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
            Previous
          </button>
          <button type="button" className="button" disabled={!apps.data || apps.data.done} onClick={() => apps.data?.iterator && setCursors([...cursors, apps.data.iterator])}>
            Next
          </button>
        </nav>
      )}
      {creating && <CreateApplicationDialog onClose={() => setCreating(false)} onCreated={() => (setCreating(false), apps.reload())} />}
      {portalFor && <PortalLinkDialog app={portalFor} onClose={() => setPortalFor(null)} />}
      {settingsFor && <ApplicationSettingsDialog app={settingsFor} onClose={() => setSettingsFor(null)} onSaved={() => (setSettingsFor(null), apps.reload())} />}
    </section>
  );
}

function CreateApplicationDialog({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const { client, toast } = useApp();
  const [name, setName] = useState('');
  const [uid, setUid] = useState('');
  const { busy, errors, onSubmit } = useFormSubmit((err) => {
    const f = formFieldErrors(err);
    return { name: f.name ?? '', uid: f.uid ?? '', '': f[''] ?? '' };
  });
  const submit = onSubmit(true, async () => {
    await ok(client.api.POST('/api/v1/app', { body: { name: name.trim(), ...(uid.trim() ? { uid: uid.trim() } : {}) } }));
    toast(`Application “${name.trim()}” created`);
    onCreated();
  });
  return (
    <Dialog title="New application" onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <Field id="app-name" label="Name" error={errors.name || null}>
          <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
        </Field>
        <Field id="app-uid" label="UID (optional)" hint="Your own id for this customer; letters, digits, - _ ." error={errors.uid || null}>
          <input value={uid} onChange={(e) => setUid(e.target.value)} autoComplete="off" spellCheck={false} />
        </Field>
        {errors[''] && <p className="field-error">{errors['']}</p>}
        <FormActions submit="Create application" disabled={!name.trim() || busy} onCancel={onClose} />
      </form>
    </Dialog>
  );
}

function PortalLinkDialog({ app, onClose }: { app: ApplicationOut; onClose: () => void }) {
  const { client } = useApp();
  const link = useAsync(() => ok(client.api.POST('/api/v1/auth/app-portal-access/{app_id}', { params: { path: { app_id: app.id } }, body: {} })), [app.id]);
  return (
    <Dialog title={`Customer portal for ${app.name}`} onClose={onClose} wide>
      {link.loading && !link.data ? (
        <Loading what="Creating a portal link…" />
      ) : link.error ? (
        <p className="field-error">{errorMessage(link.error)}</p>
      ) : link.data ? (
        <>
          <p>This link opens the portal for this application only. It is short-lived; anyone holding it can manage this application's webhooks until it expires, or until the token that created it is revoked. It cannot publish messages or send test events (the API's <code>allowPublish</code> grants that).</p>
          <div className="secret-box">
            <code className="break">{link.data.url}</code>
            <CopyButton value={link.data.url} label="Copy link" />
          </div>
          <p>
            <a href={link.data.url} target="_blank" rel="noopener noreferrer">
              Open the portal in a new tab
            </a>
          </p>
          <h3>Embed it in your site</h3>
          <div className="code-block">
            <pre>{iframeSnippet(link.data.url)}</pre>
            <CopyButton value={iframeSnippet(link.data.url)} label="Copy snippet" />
          </div>
        </>
      ) : null}
    </Dialog>
  );
}
