/**
 * Operator: API keys (issue 3/4): create with permissions (read, create, update, delete) and a scope
 * (every application or one); the full key is shown once; revoke with a confirmation.
 */
import { useState, type FormEvent } from 'react';
import { Badge } from '../components/Badge';
import { CopyableId, CopyButton } from '../components/CopyButton';
import { Dialog } from '../components/Dialog';
import { Field } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { Empty, ErrorState, Loading } from '../components/States';
import { errorMessage, seg } from '../lib/api';
import { useApp } from '../lib/context';
import { formatDateTime, zoneLabel } from '../lib/format';
import type { ApiKeyOut, ApplicationOut, ListResponse, Permission } from '../lib/types';
import { useAsync } from '../lib/use-async';
import { formFieldErrors } from './WebhookCreate';

const PERMISSIONS: { value: Permission; help: string }[] = [
  { value: 'read', help: 'See webhooks, messages and delivery history.' },
  { value: 'create', help: 'Add webhooks, publish messages.' },
  { value: 'update', help: 'Edit, pause, rotate secrets, resend and recover.' },
  { value: 'delete', help: 'Delete webhooks.' },
];

/** API keys page. */
export function ApiKeys() {
  const { client, toast, can } = useApp();
  const keys = useAsync(() => client.get<ListResponse<ApiKeyOut> | ApiKeyOut[]>('/api/v1/api-key', { limit: 250 }), []);
  const apps = useAsync(() => client.get<ListResponse<ApplicationOut>>('/api/v1/app', { limit: 250 }), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiKeyOut | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyOut | null>(null);
  const list = Array.isArray(keys.data) ? keys.data : (keys.data?.data ?? []);
  const appName = (id: string) => apps.data?.data.find((a) => a.id === id)?.name ?? id;

  const revoke = async (k: ApiKeyOut) => {
    try {
      await client.del(`/api/v1/api-key/${seg(k.id)}`);
      toast(`Key “${k.name}” revoked`);
      setRevoking(null);
      keys.reload();
    } catch (e) {
      toast(errorMessage(e), 'bad');
    }
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
      {keys.loading && !keys.data ? (
        <Loading what="Loading API keys…" />
      ) : keys.error && !keys.data ? (
        <ErrorState error={keys.error} onRetry={keys.reload} />
      ) : !list.length ? (
        <Empty>No API keys yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table responsive-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Permissions</th>
                <th scope="col">Scope</th>
                <th scope="col">Created ({zoneLabel()})</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
        </div>
      )}
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
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const valid = name.trim() !== '' && perms.length > 0 && !busy;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    setBusy(true);
    setErrors({});
    try {
      const body = { name: name.trim(), permissions: PERMISSIONS.map((p) => p.value).filter((p) => perms.includes(p)), ...(appId ? { appId } : {}) };
      onCreated(await client.post<ApiKeyOut>('/api/v1/api-key', body));
    } catch (err) {
      setErrors(formFieldErrors(err));
      setBusy(false);
    }
  };
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
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={!valid}>
            Create key
          </button>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
