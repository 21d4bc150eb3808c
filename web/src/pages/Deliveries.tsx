/**
 * Delivery history of one webhook: newest first,
 * 100 per page; filter by status and event type; CSV export of the filtered history; inspect, resend,
 * recover and send-test. The first page polls, so new attempts appear without a reload. Messages whose
 * payload retention purged (seen in their logs, or a resend the API refused for it) cannot be resent.
 */
import { useCallback, useMemo, useState } from 'react';
import { AttemptDialog } from '../components/AttemptDialog';
import { AttemptTable } from '../components/AttemptTable';
import { Badge } from '../components/Badge';
import { CopyableId } from '../components/CopyButton';
import { DeliveryState, PauseNotice } from '../components/DeliveryState';
import { ExportCsvButton, RecoverDialog, SendTestDialog } from '../components/DeliveryActions';
import { PageHeader } from '../components/PageHeader';
import { Pager } from '../components/Pager';
import { PendingDeliveries } from '../components/PendingDeliveries';
import { Empty, ErrorState, Loading } from '../components/States';
import { useCatalogue } from '../components/WebhookFields';
import { errorMessage, ok, seg } from '../lib/api';
import { useApp } from '../lib/context';
import { ATTEMPT_STATUS_CODES, endpointStatus } from '../lib/format';
import { Link } from '../lib/router';
import { isPurgedRefusal } from '../lib/retention';
import type { AttemptOut } from '../lib/types';
import { useAsync } from '../lib/use-async';

/** Rows per page: the last 100 deliveries, what a user checking a recent problem looks through. */
export const PAGE_SIZE = 100;
/** How often the first page refreshes. */
const POLL_MS = 2_000;

/** The status filter: attempts are success or failed; pending messages have no attempt yet. */
type StatusFilter = '' | 'success' | 'failed' | 'pending';

/** Delivery history page. */
export function Deliveries({ appId, endpointId }: { appId: string; endpointId: string }) {
  const { client, can, appBase, toast } = useApp();
  const base = appBase(appId);
  const epPath = { app_id: appId, endpoint_id: endpointId };
  const endpoint = useAsync(() => ok(client.api.GET('/api/v1/app/{app_id}/endpoint/{endpoint_id}', { params: { path: epPath } })), [appId, endpointId], { pollMs: 10_000 });
  const catalogue = useCatalogue();
  const [status, setStatus] = useState<StatusFilter>('');
  const [eventType, setEventType] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [inspecting, setInspecting] = useState<AttemptOut | null>(null);
  const [dialog, setDialog] = useState<'test' | 'recover' | null>(null);
  const [resending, setResending] = useState<string | null>(null);
  // The attempt list does not say which payloads were purged; each message's log or refused resend does.
  const [purged, setPurged] = useState<ReadonlySet<string>>(() => new Set());
  const markPurged = useCallback((msgId: string) => setPurged((s) => (s.has(msgId) ? s : new Set(s).add(msgId))), []);

  const filters = {
    status: status === 'success' || status === 'failed' ? ATTEMPT_STATUS_CODES[status] : undefined,
    event_types: eventType ? [eventType] : undefined,
  };
  const iterator = cursors[cursors.length - 1];
  const attempts = useAsync(
    () =>
      status === 'pending'
        ? Promise.resolve(null)
        : ok(client.api.GET('/api/v1/app/{app_id}/attempt/endpoint/{endpoint_id}', { params: { path: epPath, query: { limit: PAGE_SIZE, iterator, with_content: false, ...filters } } })),
    [appId, endpointId, status, eventType, iterator],
    { pollMs: cursors.length === 0 ? POLL_MS : undefined },
  );
  const typeOptions = useMemo(() => {
    const names = new Set<string>([...(endpoint.data?.filterTypes ?? []), ...(catalogue.data ?? []).map((t) => t.name)]);
    return [...names].filter((n) => !n.includes('*')).sort();
  }, [endpoint.data, catalogue.data]);

  const resend = async (a: AttemptOut) => {
    setResending(a.id);
    try {
      await ok(client.api.POST('/api/v1/app/{app_id}/msg/{msg_id}/endpoint/{endpoint_id}/resend', { params: { path: { ...epPath, msg_id: a.msgId } } }));
      toast(`Webhook resend is in progress: ${a.msgId} is queued for another attempt.`);
      attempts.reload();
    } catch (e) {
      if (isPurgedRefusal(e)) {
        markPurged(a.msgId);
        toast(`${a.msgId} cannot be resent: retention purged its payload, so there is nothing left to send. Publish it again instead.`, 'bad');
      } else {
        toast(errorMessage(e), 'bad');
      }
    } finally {
      setResending(null);
    }
  };

  if (endpoint.loading && !endpoint.data) return <Loading what="Loading webhook…" />;
  if (endpoint.error && !endpoint.data) return <ErrorState error={endpoint.error} onRetry={endpoint.reload} />;
  const ep = endpoint.data!;
  const epStatus = endpointStatus(ep);
  const rows = attempts.data?.data ?? [];

  return (
    <section>
      <PageHeader
        title={ep.description || 'Untitled webhook'}
        back={{ to: base, label: 'Back to webhooks' }}
        subtitle={
          <>
            <span className="chip break" data-testid="endpoint-url">
              {ep.url}
            </span>{' '}
            <Badge tone={epStatus.tone}>{epStatus.label}</Badge> <CopyableId id={ep.id} />
            {epStatus.reason && <p className="reason">{epStatus.reason}</p>}
          </>
        }
        actions={
          <>
            {can('publish') && (
              <button type="button" className="button" onClick={() => setDialog('test')} disabled={ep.disabled}>
                Send test event
              </button>
            )}
            {can('update') && (
              <>
                <button type="button" className="button" onClick={() => setDialog('recover')} disabled={ep.disabled}>
                  Recover failed
                </button>
                <Link className="button" to={`${base}/webhooks/${seg(ep.id)}/edit`}>
                  Edit
                </Link>
              </>
            )}
            <ExportCsvButton endpointPath={epPath} query={filters} fileName={`deliveries-${ep.id}.csv`} />
          </>
        }
      />
      <PauseNotice endpoint={ep} canUpdate={can('update')} />
      <DeliveryState endpoint={ep} />
      <h2 className="section-title">Delivery history</h2>
      <div className="filters" role="group" aria-label="Filter deliveries">
        <div className="field field-inline">
          <label htmlFor="f-status">Status</label>
          <select id="f-status" value={status} onChange={(e) => (setStatus(e.target.value as StatusFilter), setCursors([]))}>
            <option value="">All statuses</option>
            <option value="success">Success</option>
            <option value="failed">Failed</option>
            <option value="pending">Pending</option>
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor="f-type">Event type</label>
          <select id="f-type" value={eventType} onChange={(e) => (setEventType(e.target.value), setCursors([]))}>
            <option value="">All event types</option>
            {typeOptions.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
      </div>
      {status === 'pending' ? (
        <PendingDeliveries appId={appId} endpointId={endpointId} eventType={eventType} full paused={!!ep.paused} />
      ) : (
        <>
          {cursors.length === 0 && <PendingDeliveries appId={appId} endpointId={endpointId} eventType={eventType} full={false} paused={!!ep.paused} />}
          {attempts.loading && !attempts.data ? (
            <Loading what="Loading deliveries…" />
          ) : attempts.error && !attempts.data ? (
            <ErrorState error={attempts.error} onRetry={attempts.reload} />
          ) : rows.length === 0 ? (
            <Empty>{status || eventType ? 'No deliveries match these filters.' : 'No events found for this webhook.'}</Empty>
          ) : (
            <AttemptTable
              rows={rows}
              onInspect={setInspecting}
              onResend={resend}
              resending={resending}
              resendDisabled={!!ep.disabled}
              purged={purged}
              note={`Newest first, ${PAGE_SIZE} per page${cursors.length === 0 ? '; new attempts appear automatically' : ''}.`}
            />
          )}
          <Pager cursors={cursors} onChange={setCursors} page={attempts.data} what="deliveries" />
        </>
      )}
      {inspecting && <AttemptDialog appId={appId} attempt={inspecting} onClose={() => setInspecting(null)} onPurged={markPurged} />}
      {dialog === 'test' && <SendTestDialog endpointPath={epPath} types={ep.filterTypes?.some((t) => !t.includes('*')) ? ep.filterTypes.filter((t) => !t.includes('*')) : typeOptions} onClose={() => setDialog(null)} onQueued={attempts.reload} />}
      {dialog === 'recover' && <RecoverDialog endpointPath={epPath} onClose={() => setDialog(null)} onQueued={attempts.reload} />}
    </section>
  );
}
