/**
 * "Webhook logs" for one attempt, everything a user needs to see why it failed: date, time, status
 * code, error, URL; the request body and headers sent; the response headers and body. Bodies are shown
 * as text in <pre> (React escapes them): a receiver's HTML error page is never rendered. A message whose
 * payload retention purged says so where the body would be, and that it cannot be resent.
 */
import { useEffect } from 'react';
import { ok } from '../lib/api';
import { useApp } from '../lib/context';
import { attemptResult, attemptStatusName, formatDate, formatDuration, formatTime, zoneLabel } from '../lib/format';
import { PURGED_EXPLANATION, PURGED_TITLE } from '../lib/retention';
import type { AttemptOut } from '../lib/types';
import { useAsync } from '../lib/use-async';
import { Badge } from './Badge';
import { CopyableId, CopyButton } from './CopyButton';
import { Dialog } from './Dialog';
import { ErrorState, Loading } from './States';

/** Pretty JSON of a parsed payload (or of JSON text); other text as it is. */
export function prettyBody(body: unknown): string {
  if (body === null || body === undefined) return '';
  if (typeof body !== 'string') return JSON.stringify(body, null, 2);
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function HeaderTable({ headers, caption }: { headers: Record<string, string> | null | undefined; caption: string }) {
  const entries = Object.entries(headers ?? {});
  if (!entries.length) return <p className="muted">None recorded.</p>;
  return (
    <table className="table kv-table">
      <caption className="visually-hidden">{caption}</caption>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td className="break">
              <code>{Array.isArray(v) ? v.join(', ') : String(v)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Modal with everything known about an attempt and the other attempts of its message; `onPurged` hears when its payload turns out purged. */
export function AttemptDialog({ appId, attempt, onClose, onPurged }: { appId: string; attempt: AttemptOut; onClose: () => void; onPurged?: (msgId: string) => void }) {
  const { client } = useApp();
  const msgPath = { app_id: appId, msg_id: attempt.msgId };
  const detail = useAsync(
    () => ok(client.api.GET('/api/v1/app/{app_id}/msg/{msg_id}/attempt/{attempt_id}', { params: { path: { ...msgPath, attempt_id: attempt.id } } })),
    [appId, attempt.msgId, attempt.id],
  );
  // Herald's attempt detail carries the exact body sent; a Svix-only server needs the message.
  const message = useAsync(
    () => (detail.data && detail.data.requestBody === undefined ? ok(client.api.GET('/api/v1/app/{app_id}/msg/{msg_id}', { params: { path: msgPath } })) : Promise.resolve(null)),
    [appId, attempt.msgId, detail.data],
  );
  const history = useAsync(
    () => ok(client.api.GET('/api/v1/app/{app_id}/attempt/msg/{msg_id}', { params: { path: msgPath, query: { endpoint_id: attempt.endpointId, limit: 50 } } })),
    [appId, attempt.msgId, attempt.endpointId],
  );
  const a = detail.data ?? attempt;
  const name = attemptStatusName(a.status);
  // The exact bytes that were signed and sent (a Svix-only server gives the payload, re-serialised).
  const requestBody = a.requestBody ?? prettyBody(message.data?.payload);
  // Herald's attempt detail says whether retention purged the payload; a message says it itself.
  const purged = detail.data?.msgPayloadPurged === true || message.data?.payloadPurged === true;
  useEffect(() => {
    if (purged) onPurged?.(attempt.msgId);
  }, [purged, attempt.msgId, onPurged]);

  return (
    <Dialog title="Webhook logs" onClose={onClose} wide footer={<button type="button" className="button" onClick={onClose}>Close</button>}>
      <dl className="facts">
        <div className="fact-wide">
          <dt>Event</dt>
          <dd>
            <code className="tag">{a.eventType ?? message.data?.eventType ?? '—'}</code> <CopyableId id={a.msgId} />
            {purged && (
              <>
                {' '}
                <Badge tone="muted">Payload purged</Badge>
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Date</dt>
          <dd>{formatDate(a.timestamp)}</dd>
        </div>
        <div>
          <dt>Time ({zoneLabel()})</dt>
          <dd>{formatTime(a.timestamp)}</dd>
        </div>
        <div>
          <dt>Attempt</dt>
          <dd>{a.attemptNumber ?? '—'}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>
            <Badge tone={name === 'success' ? 'ok' : name === 'failed' ? 'bad' : 'warn'}>{name}</Badge>
          </dd>
        </div>
        <div>
          <dt>Status code</dt>
          <dd data-testid="attempt-status-code">{a.responseStatusCode > 0 ? a.responseStatusCode : '—'}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(a.responseDurationMs)}</dd>
        </div>
        <div className="fact-wide">
          <dt>URL</dt>
          <dd className="break">{a.url}</dd>
        </div>
        <div className="fact-wide">
          <dt>Error message</dt>
          <dd className="break" data-testid="attempt-error">
            {a.errorMessage ? `${a.errorStage ? `${a.errorStage}: ` : ''}${a.errorMessage}` : a.status === 0 ? 'None' : attemptResult(a)}
          </dd>
        </div>
      </dl>
      {detail.error ? <ErrorState error={detail.error} onRetry={detail.reload} /> : null}
      <h3>Request</h3>
      <h4>Headers</h4>
      {detail.loading && !detail.data ? <Loading /> : <HeaderTable headers={a.requestHeaders} caption="Request headers" />}
      <h4>Body</h4>
      {detail.loading && !detail.data ? (
        <Loading />
      ) : purged ? (
        <div className="notice" data-testid="payload-purged">
          <p>
            <strong>{PURGED_TITLE}</strong>
          </p>
          <p>{PURGED_EXPLANATION}</p>
        </div>
      ) : message.error ? (
        <ErrorState error={message.error} onRetry={message.reload} />
      ) : (
        <div className="code-block">
          <pre data-testid="request-body">{requestBody}</pre>
          <CopyButton value={requestBody} label="Copy body" />
        </div>
      )}
      <h3>Response</h3>
      <h4>Headers</h4>
      {detail.loading && !detail.data ? <Loading /> : <HeaderTable headers={a.responseHeaders} caption="Response headers" />}
      <h4>Body</h4>
      {a.response ? (
        <>
        {a.responseTruncated && <p className="muted">Only the first 64 KiB of the body were kept.</p>}
        <div className="code-block">
          <pre data-testid="response-body">{a.response}</pre>
        </div>
        </>
      ) : (
        <p className="muted">Empty.</p>
      )}
      <h3>All attempts of this message</h3>
      {history.loading && !history.data ? (
        <Loading />
      ) : history.error ? (
        <ErrorState error={history.error} onRetry={history.reload} />
      ) : (
        <ol className="attempt-blocks">
          {(history.data?.data ?? []).map((h) => (
            <li key={h.id} className={h.id === a.id ? 'current' : undefined}>
              <span>
                {formatDate(h.timestamp)} {formatTime(h.timestamp)}
              </span>
              <span>#{h.attemptNumber ?? '?'}</span>
              <Badge tone={h.status === 0 ? 'ok' : h.status === 2 ? 'bad' : 'warn'}>{attemptStatusName(h.status)}</Badge>
              <span className="break">{attemptResult(h)}</span>
            </li>
          ))}
        </ol>
      )}
    </Dialog>
  );
}
