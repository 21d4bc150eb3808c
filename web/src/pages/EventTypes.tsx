/**
 * Operator: the event type catalogue: create, edit description and schema, archive and
 * restore. Archived types stay valid for existing subscriptions but leave the add-webhook form.
 */
import { useState } from 'react';
import { Badge } from '../components/Badge';
import { TableHead } from '../components/DataTable';
import { Dialog } from '../components/Dialog';
import { Field, FormActions } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { AsyncView } from '../components/States';
import { useToastAction } from '../lib/actions';
import { ok } from '../lib/api';
import { useApp } from '../lib/context';
import { useFormSubmit } from '../lib/form';
import { eventTypeNameProblem, groupEventTypes } from '../lib/format';
import type { EventTypeOut } from '../lib/types';
import { useAsync } from '../lib/use-async';

/** Parses the schema textarea: '' = no schema; otherwise a JSON object, stored as version "1". */
export function parseSchemaText(text: string): { schemas: Record<string, unknown> | null } | { error: string } {
  if (!text.trim()) return { schemas: null };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'The schema must be a JSON object.' };
    return { schemas: { '1': value } };
  } catch (e) {
    return { error: `Not valid JSON: ${(e as Error).message}` };
  }
}

/** Event type catalogue page. */
export function EventTypes() {
  const { client, can } = useApp();
  const run = useToastAction();
  const [showArchived, setShowArchived] = useState(false);
  const list = useAsync(() => ok(client.api.GET('/api/v1/event-type', { params: { query: { limit: 250, include_archived: showArchived, with_content: true } } })), [showArchived]);
  const [editing, setEditing] = useState<EventTypeOut | 'new' | null>(null);

  const setArchived = async (t: EventTypeOut, archived: boolean) => {
    const params = { path: { event_type_name: t.name } };
    const change = () =>
      archived ? ok(client.api.DELETE('/api/v1/event-type/{event_type_name}', { params })) : ok(client.api.PATCH('/api/v1/event-type/{event_type_name}', { params, body: { archived: false } }));
    const done = await run(change, archived ? `${t.name} archived` : `${t.name} restored`);
    if (done) list.reload();
  };

  return (
    <section>
      <PageHeader
        title="Event types"
        subtitle="The catalogue customers pick from when they add a webhook. Descriptions appear beside each checkbox."
        actions={
          can('create') && (
            <button type="button" className="button button-primary" onClick={() => setEditing('new')}>
              New event type
            </button>
          )
        }
      />
      <label className="check">
        <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} />
        <span>Show archived event types</span>
      </label>
      <AsyncView state={list} loading="Loading event types…" isEmpty={(page) => !page.data.length} empty="No event types yet.">
        {(page) =>
          groupEventTypes(page.data).map((group) => (
            <div className="table-wrap" key={group.prefix}>
              <h2 className="section-title">{group.prefix}</h2>
              <table className="table responsive-table fixed-cols">
                <colgroup>
                  <col className="w-24" />
                  <col className="w-40" />
                  <col className="w-9" />
                  <col className="w-11" />
                  <col className="w-16" />
                </colgroup>
                <TableHead columns={['Name', 'Description', 'Schema', 'Status']} actions />
                <tbody>
                  {group.types.map((t) => (
                    <tr key={t.name}>
                      <td data-label="Name">
                        <code>{t.name}</code>
                      </td>
                      <td data-label="Description">{t.description || <span className="muted">—</span>}</td>
                      <td data-label="Schema">{t.schemas && Object.keys(t.schemas).length ? 'Yes' : <span className="muted">No</span>}</td>
                      <td data-label="Status">{t.archived ? <Badge tone="muted">Archived</Badge> : <Badge tone="ok">Active</Badge>}</td>
                      <td data-label="Actions" className="actions-cell">
                        <div className="row-actions">
                          {can('update') && (
                            <button type="button" className="button button-small" onClick={() => setEditing(t)} aria-label={`Edit ${t.name}`}>
                              Edit
                            </button>
                          )}
                          {t.archived
                            ? can('update') && (
                                <button type="button" className="button button-small" onClick={() => setArchived(t, false)} aria-label={`Restore ${t.name}`}>
                                  Restore
                                </button>
                              )
                            : can('delete') && (
                                <button type="button" className="button button-small button-danger-outline" onClick={() => setArchived(t, true)} aria-label={`Archive ${t.name}`}>
                                  Archive
                                </button>
                              )}
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))
        }
      </AsyncView>
      {editing && <EventTypeDialog existing={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onSaved={() => (setEditing(null), list.reload())} />}
    </section>
  );
}

function EventTypeDialog({ existing, onClose, onSaved }: { existing: EventTypeOut | null; onClose: () => void; onSaved: () => void }) {
  const { client, toast } = useApp();
  const [name, setName] = useState(existing?.name ?? '');
  const [description, setDescription] = useState(existing?.description ?? '');
  const initialSchema = existing?.schemas?.['1'] ? JSON.stringify(existing.schemas['1'], null, 2) : '';
  const [schema, setSchema] = useState(initialSchema);
  const { busy, errors, onSubmit } = useFormSubmit();
  const parsed = parseSchemaText(schema);
  const nameError = existing ? null : eventTypeNameProblem(name.trim());
  const valid = !nameError && description.trim() !== '' && !('error' in parsed) && !busy;
  const submit = onSubmit(valid, async () => {
    if ('error' in parsed) return;
    // Only a changed schema is sent, so editing a description never touches other schema versions.
    if (existing) {
      const body = { description: description.trim(), ...(schema !== initialSchema ? { schemas: parsed.schemas } : {}) };
      await ok(client.api.PATCH('/api/v1/event-type/{event_type_name}', { params: { path: { event_type_name: existing.name } }, body }));
    } else {
      const body = { name: name.trim(), description: description.trim(), ...(parsed.schemas ? { schemas: parsed.schemas } : {}) };
      await ok(client.api.POST('/api/v1/event-type', { body }));
    }
    toast(existing ? `${existing.name} saved` : `${name.trim()} created`);
    onSaved();
  });
  return (
    <Dialog title={existing ? `Edit ${existing.name}` : 'New event type'} onClose={onClose} wide>
      <form className="form" onSubmit={submit} noValidate>
        {!existing && (
          <Field id="et-name" label="Name" hint="Dotted, e.g. order.paid; the part before the first dot groups it." error={errors.name ?? (name ? nameError : null)}>
            <input value={name} onChange={(e) => setName(e.target.value)} spellCheck={false} autoComplete="off" />
          </Field>
        )}
        <Field id="et-desc" label="Description" hint="One line customers see beside the checkbox." error={errors.description}>
          <input value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <Field id="et-schema" label="JSON Schema of the payload (optional)" error={errors.schemas ?? ('error' in parsed ? parsed.error : null)}>
          <textarea rows={8} value={schema} onChange={(e) => setSchema(e.target.value)} spellCheck={false} className="mono" />
        </Field>
        {errors[''] && <p className="field-error">{errors['']}</p>}
        <FormActions submit={existing ? 'Save' : 'Create event type'} disabled={!valid} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
