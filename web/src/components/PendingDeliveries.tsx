/**
 * Messages still waiting for this webhook (pending a first try or a retry, or being sent): attempts
 * exist only once made, so these come from the endpoint's message list (`…/endpoint/{ep}/msg`).
 * Shown as a compact panel above the history, or as the whole list under the "Pending" filter.
 */
import { ok } from '../lib/api';
import { useApp } from '../lib/context';
import { attemptStatusName, formatDateTime, statusTone } from '../lib/format';
import { useAsync } from '../lib/use-async';
import { Badge } from './Badge';
import { CopyableId } from './CopyButton';
import { Empty, ErrorState, Loading } from './States';

/** Pending and sending messages of an endpoint, newest first, polled; while `paused`, pending ones are held. */
export function PendingDeliveries({ appId, endpointId, eventType, full, paused = false }: { appId: string; endpointId: string; eventType: string; full: boolean; paused?: boolean }) {
  const { client } = useApp();
  const path = { app_id: appId, endpoint_id: endpointId };
  const limit = full ? 100 : 10;
  const list = useAsync(
    async () => {
      const query = { limit, with_content: false, event_types: eventType ? [eventType] : undefined };
      const [pending, sending] = await Promise.all([
        ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/msg', { params: { path, query: { ...query, status: 1 } } })),
        ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}/msg', { params: { path, query: { ...query, status: 3 } } })),
      ]);
      return [...sending.data, ...pending.data].sort((a, b) => (a.id < b.id ? 1 : -1)).slice(0, limit);
    },
    [appId, endpointId, eventType, limit],
    { pollMs: 2_000 },
  );
  const rows = list.data ?? [];
  if (!full && rows.length === 0) return null;
  if (list.loading && !list.data) return full ? <Loading what="Loading pending deliveries…" /> : null;
  if (list.error && !list.data) return full ? <ErrorState error={list.error} onRetry={list.reload} /> : null;
  if (full && rows.length === 0) return <Empty>Nothing is waiting to be sent to this webhook.</Empty>;
  return (
    <section className="card pending" aria-labelledby="pending-title">
      <h3 id="pending-title">Waiting to be sent ({rows.length}{rows.length === limit ? '+' : ''})</h3>
      <ul className="pending-list">
        {rows.map((m) => (
          <li key={m.id} data-testid="pending-row">
            <Badge tone={statusTone(m.status)}>{attemptStatusName(m.status)}</Badge>
            <code className="tag">{m.eventType}</code>
            <CopyableId id={m.id} />
            <span className="muted">
              {m.attempts ? `${m.attempts} attempt${m.attempts === 1 ? '' : 's'} so far` : 'not tried yet'}
              {paused && m.status === 1 ? ' · held until the webhook is resumed' : m.nextAttempt ? ` · next ${formatDateTime(m.nextAttempt)}` : ''}
            </span>
            {m.lastError && <span className="reason">{m.lastError}</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}
