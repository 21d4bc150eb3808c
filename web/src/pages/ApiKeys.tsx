/**
 * Operator: API keys: create with permissions (read, create, update, delete) and a scope
 * (every application or one); the full key is shown once; revoke with a confirmation.
 */
import { useState } from 'react';
import { Badge } from '../components/Badge';
import { CopyableId, CopyButton } from '../components/CopyButton';
import { DataTable } from '../components/DataTable';
import { Dialog } from '../components/Dialog';
import { Field, FormActions } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { AsyncView } from '../components/States';
import { useToastAction } from '../lib/actions';
import { ok } from '../lib/api';
import { useApp } from '../lib/context';
import { useFormSubmit } from '../lib/form';
import { formatDateTime, zoneLabel } from '../lib/format';
import type { ApiKeyOut, ApplicationOut, Permission } from '../lib/types';
import { useAsync } from '../lib/use-async';

const PERMISSIONS: { value: Permission; help: string }[] = [
  { value: 'read', help: 'See webhooks, messages and delivery history.' },
  { value: 'create', help: 'Add webhooks, publish messages and send test events.' },
  { value: 'update', help: 'Edit, pause, rotate secrets, resend and recover.' },
  { value: 'delete', help: 'Delete webhooks.' },
];

/** API keys page. */
export function ApiKeys() {
  const { client, can } = useApp();
  const run = useToastAction();
  const keys = useAsync(() => ok(client.api.GET('/api/v1/api-key', { params: { query: { limit: 250 } } })), []);
  const apps = useAsync(() => ok(client.api.GET('/api/v1/app', { params: { query: { limit: 250 } } })), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiKeyOut | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyOut | null>(null);
  const list = keys.data?.data ?? [];
  const appName = (id: string) => apps.data?.data.find((a) => a.id === id)?.name ?? id;

  const revoke = async (k: ApiKeyOut) => {
    if (!(await run(() => ok(client.api.DELETE('/api/v1/api-key/{key_id}', { params: { path: { key_id: k.id } } })), `Key “${k.name}” revoked`))) return;
    setRevoking(null);
    keys.reload();
  };

  return (
    <section>
      <PageHeader
        title="API keys"
        subtitle="Keys for your platform's servers and for people who use this dashboard. Only a hash is stored; a key is shown once."
        actions={
          can('create') && (
            <button type="button" className="button button-primary" onClick={() => setCreating(true)}>
              New API key
            </button>
          )
        }
      />
      <AsyncView state={keys} loading="Loading API keys…" isEmpty={() => !list.length} empty="No API keys yet.">
        {() => (
          <DataTable columns={['Name', 'Permissions', 'Scope', `Created (${zoneLabel()})`, 'Last used']} actions>
            {list.map((k) => (
              <tr key={k.id}>
                <td data-label="Name">
                  <strong>{k.name}</strong>
                  <div className="cell-sub">
                    <CopyableId id={k.id} />
                    {k.prefix && <code className="muted"> {k.prefix}…</code>}
                  </div>
                </td>
                <td data-label="Permissions">
                  {k.permissions.map((p) => (
                    <Badge key={p} tone="info">
                      {p}
                    </Badge>
                  ))}
                </td>
                <td data-label="Scope">{k.appId ? appName(k.appId) : 'All applications'}</td>
                <td data-label="Created">{formatDateTime(k.createdAt)}</td>
                <td data-label="Last used">{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : <span className="muted">Never</span>}</td>
                <td data-label="Actions" className="actions-cell">
                  {can('delete') && (
                    <button type="button" className="button button-small button-danger-outline" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </AsyncView>
      {creating && <CreateKeyDialog apps={apps.data?.data ?? []} onClose={() => setCreating(false)} onCreated={(k) => (setCreating(false), setCreated(k), keys.reload())} />}
      {created?.key && (
        <Dialog title="API key created" onClose={() => setCreated(null)} requireAction footer={<button type="button" className="button button-primary" onClick={() => setCreated(null)}>OK, I have stored it</button>}>
          <p>“{created.name}” is ready. Send it as <code>Authorization: Bearer …</code>.</p>
          <div className="secret-box">
            <code data-testid="full-key">{created.key}</code>
            <CopyButton value={created.key} label="Copy key" />
          </div>
          <p className="warning">
            <strong>Store this key in a safe place now.</strong> It will only be shown once and cannot be retrieved later.
          </p>
        </Dialog>
      )}
      {revoking && (
        <Dialog
          title="Revoke API key"
          onClose={() => setRevoking(null)}
          footer={
            <>
              <button type="button" className="button" onClick={() => setRevoking(null)}>
                Cancel
              </button>
              <button type="button" className="button button-danger" onClick={() => revoke(revoking)}>
                Revoke
              </button>
            </>
          }
        >
          <p>
            Revoke <strong>“{revoking.name}”</strong>? Anything using it stops working at once.
          </p>
        </Dialog>
      )}
    </section>
  );
}

function CreateKeyDialog({ apps, onClose, onCreated }: { apps: ApplicationOut[]; onClose: () => void; onCreated: (k: ApiKeyOut) => void }) {
  const { client } = useApp();
  const [name, setName] = useState('');
  const [perms, setPerms] = useState<Permission[]>(['read']);
  const [appId, setAppId] = useState('');
  const { busy, errors, onSubmit } = useFormSubmit();
  const valid = name.trim() !== '' && perms.length > 0 && !busy;
  const submit = onSubmit(valid, async () => {
    const body = { name: name.trim(), permissions: PERMISSIONS.map((p) => p.value).filter((p) => perms.includes(p)), ...(appId ? { appId } : {}) };
    onCreated(await ok(client.api.POST('/api/v1/api-key', { body })));
  });
  return (
    <Dialog title="New API key" onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <Field id="key-name" label="Name" hint="Who or what uses it, e.g. checkout-service." error={errors.name}>
          <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
        </Field>
        <fieldset className="field">
          <legend>Permissions</legend>
          {PERMISSIONS.map((p) => (
            <label className="check" key={p.value}>
              <input type="checkbox" checked={perms.includes(p.value)} onChange={(e) => setPerms(e.target.checked ? [...perms, p.value] : perms.filter((x) => x !== p.value))} />
              <span>
                <strong>{p.value}</strong>
                <span className="check-desc">{p.help}</span>
              </span>
            </label>
          ))}
          {errors.permissions && <p className="field-error">{errors.permissions}</p>}
        </fieldset>
        <Field id="key-scope" label="Scope" hint="A key scoped to one application cannot see any other." error={errors.appId}>
          <select value={appId} onChange={(e) => setAppId(e.target.value)}>
            <option value="">All applications</option>
            {apps.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name} ({a.id})
              </option>
            ))}
          </select>
        </Field>
        {errors[''] && <p className="field-error">{errors['']}</p>}
        <FormActions submit="Create key" disabled={!valid} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
