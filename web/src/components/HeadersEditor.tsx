/**
 * Custom headers Herald adds to every delivery of a webhook (e.g. an auth header the receiver's
 * gateway wants). Credential-like values are never sent back by the API (only their names, in
 * `sensitive`), so changes are saved with PATCH …/headers: set what was typed, delete what was
 * removed, and leave a hidden value alone unless a new one is typed. Names Herald reserves are
 * refused by the API and the refusal shows here.
 */
import { useEffect, useState } from 'react';
import { ApiError, errorMessage, ok, pathKey, type EndpointPath } from '../lib/api';
import { useApp } from '../lib/context';
import { headerNameProblem, headersPatch } from '../lib/headers';
import { useAsync } from '../lib/use-async';
import { ErrorState, Loading } from './States';

interface Row {
  key: number;
  name: string;
  value: string;
  /** The value is stored but hidden: empty here means "keep it". */
  hidden: boolean;
}


/** Editor card for an endpoint's custom headers. */
export function HeadersEditor({ endpointPath }: { endpointPath: EndpointPath }) {
  const { client, toast } = useApp();
  const loaded = useAsync(() => ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/headers', { params: { path: endpointPath } })), [pathKey(endpointPath)]);
  const [rows, setRows] = useState<Row[]>([]);
  const [nextKey, setNextKey] = useState(1);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!loaded.data) return;
    const shown = Object.entries(loaded.data.headers ?? {}).map(([name, value]) => ({ name, value, hidden: false }));
    const hidden = (loaded.data.sensitive ?? []).map((name) => ({ name, value: '', hidden: true }));
    const all = [...shown, ...hidden].sort((a, b) => a.name.localeCompare(b.name));
    setRows(all.map((r, i) => ({ ...r, key: i + 1 })));
    setNextKey(all.length + 1);
  }, [loaded.data]);

  const problems = rows.map((r) => headerNameProblem(r.name.trim()) ?? (/[\r\n]/.test(r.value) ? 'Values cannot contain line breaks.' : null));
  const names = rows.map((r) => r.name.trim().toLowerCase());
  const duplicate = names.find((n, i) => n && names.indexOf(n) !== i);
  const valid = problems.every((p) => p === null) && !duplicate && !busy;

  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      const loadedNames = [...Object.keys(loaded.data?.headers ?? {}), ...(loaded.data?.sensitive ?? [])];
      await ok(client.api.PATCH('/api/v1/app/{app_id}/endpoint/{endpoint_id}/headers', { params: { path: endpointPath }, body: headersPatch(loadedNames, rows) }));
      toast('Custom headers saved');
      loaded.reload();
    } catch (e) {
      setError(e instanceof ApiError ? Object.values(e.fieldErrors()).join('; ') : errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="headers-title">
      <h2 id="headers-title">Custom headers</h2>
      <p className="muted">Sent with every delivery to this webhook, for example an authorization header your gateway expects.</p>
      {loaded.loading && !loaded.data ? (
        <Loading what="Loading headers…" />
      ) : loaded.error && !loaded.data ? (
        <ErrorState error={loaded.error} onRetry={loaded.reload} />
      ) : (
        <>
          {rows.length === 0 && <p className="muted">No custom headers.</p>}
          {rows.map((row, i) => (
            <div className="header-row" key={row.key}>
              <div className="field">
                <label htmlFor={`h-name-${row.key}`}>Header name</label>
                <input id={`h-name-${row.key}`} value={row.name} spellCheck={false} autoComplete="off" aria-invalid={problems[i] ? true : undefined} onChange={(e) => setRows(rows.map((r) => (r.key === row.key ? { ...r, name: e.target.value, hidden: false } : r)))} />
              </div>
              <div className="field">
                <label htmlFor={`h-value-${row.key}`}>Value</label>
                <input id={`h-value-${row.key}`} value={row.value} spellCheck={false} autoComplete="off" placeholder={row.hidden ? 'Hidden; type to replace' : ''} onChange={(e) => setRows(rows.map((r) => (r.key === row.key ? { ...r, value: e.target.value } : r)))} />
              </div>
              <button type="button" className="button button-small" aria-label={`Remove header ${row.name || i + 1}`} onClick={() => setRows(rows.filter((r) => r.key !== row.key))}>
                Remove
              </button>
              {problems[i] && row.name && <p className="field-error header-error">{problems[i]}</p>}
            </div>
          ))}
          {duplicate && <p className="field-error">The header {duplicate} appears twice.</p>}
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
          <div className="form-actions">
            <button
              type="button"
              className="button"
              onClick={() => {
                setRows([...rows, { key: nextKey, name: '', value: '', hidden: false }]);
                setNextKey(nextKey + 1);
              }}
            >
              Add header
            </button>
            <button type="button" className="button button-primary" disabled={!valid} onClick={save}>
              {busy ? 'Saving…' : 'Save headers'}
            </button>
          </div>
        </>
      )}
    </section>
  );
}
